import { useMemo, useState } from "react";
import { clientFor } from "./api";
import { currentCredential, signOut, type Credential } from "./auth";
import { CanContext } from "./components/useCan";
import { Audit } from "./pages/Audit";
import { Companies } from "./pages/Companies";
import { CustomerDetail, Customers } from "./pages/Customers";
import { Dashboard } from "./pages/Dashboard";
import { Discounts } from "./pages/Discounts";
import { GiftCards } from "./pages/GiftCards";
import { Invoices } from "./pages/Invoices";
import { MessageThread, Messages } from "./pages/Messages";
import { OrderDetail } from "./pages/OrderDetail";
import { Orders } from "./pages/Orders";
import { PriceLists } from "./pages/PriceLists";
import { Products } from "./pages/Products";
import { Quotes } from "./pages/Quotes";
import { Sales } from "./pages/Sales";
import { Returns } from "./pages/Returns";
import { SignIn } from "./pages/SignIn";
import { Staff } from "./pages/Staff";
import { can as allowed, rolesOf, whoIs, type Permission } from "./roles";
import { useRoute } from "./router";

const SECTIONS: { path: string; label: string; needs: Permission }[] = [
  { path: "", label: "Dashboard", needs: "reports:read" },
  { path: "orders", label: "Orders", needs: "orders:read" },
  { path: "products", label: "Products", needs: "products:read" },
  { path: "returns", label: "Returns", needs: "returns:read" },
  { path: "discounts", label: "Discounts", needs: "discounts:read" },
  { path: "sales", label: "Sales", needs: "sales:read" },
  { path: "companies", label: "Companies", needs: "companies:read" },
  { path: "price-lists", label: "Price lists", needs: "companies:read" },
  { path: "quotes", label: "Quotes", needs: "quotes:read" },
  { path: "invoices", label: "Invoices", needs: "invoices:read" },
  { path: "customers", label: "Customers", needs: "customers:read" },
  { path: "messages", label: "Messages", needs: "messages:read" },
  { path: "audit", label: "Audit", needs: "audit:read" },
  { path: "gift-cards", label: "Gift cards", needs: "giftcards:read" },
  { path: "staff", label: "Staff", needs: "staff:manage" },
];

export function App() {
  const [credential, setCredential] = useState<Credential | null>(currentCredential);
  // Why the user was sent back to sign in: the API refused the credential (401, e.g. `token_revoked`).
  const [notice, setNotice] = useState("");
  const route = useRoute();
  const client = useMemo(() => (credential ? clientFor(credential, (message) => {
    signOut();
    setNotice(message);
    setCredential(null);
  }) : null), [credential]);
  const can = useMemo(() => (permission: Permission) => (credential ? allowed(credential, permission) : false), [credential]);

  if (!credential || !client) {
    return <SignIn notice={notice} onSignedIn={(signedIn) => { setNotice(""); setCredential(signedIn); }} />;
  }
  const [section = "", id] = route;
  const sections = SECTIONS.filter((s) => can(s.needs));
  let page;
  if (!sections.some((s) => s.path === section)) page = <p role="alert">Your role cannot open this page.</p>;
  else if (section === "orders" && id) page = <OrderDetail client={client} orderId={id} />;
  else if (section === "orders") page = <Orders client={client} />;
  else if (section === "products") page = <Products client={client} />;
  else if (section === "returns") page = <Returns client={client} />;
  else if (section === "discounts") page = <Discounts client={client} />;
  else if (section === "companies") page = <Companies client={client} />;
  else if (section === "price-lists") page = <PriceLists client={client} />;
  else if (section === "quotes") page = <Quotes client={client} />;
  else if (section === "invoices") page = <Invoices client={client} />;
  else if (section === "customers" && id) page = <CustomerDetail client={client} customerId={id} />;
  else if (section === "customers") page = <Customers client={client} />;
  else if (section === "messages" && id) page = <MessageThread client={client} orderId={id} />;
  else if (section === "messages") page = <Messages client={client} />;
  else if (section === "audit") page = <Audit client={client} />;
  else if (section === "sales") page = <Sales client={client} />;
  else if (section === "gift-cards") page = <GiftCards client={client} />;
  else if (section === "staff") page = <Staff client={client} me={whoIs(credential)} />;
  else page = <Dashboard client={client} />;
  const roles = rolesOf(credential);

  return (
    <CanContext.Provider value={can}>
      <a className="skip" href="#main" onClick={(event) => { event.preventDefault(); document.getElementById("main")?.focus(); }}>
        Skip to content
      </a>
      <header className="top">
        <strong className="brand">Back office</strong>
        <nav aria-label="Sections">
          <ul>
            {sections.map((s) => (
              <li key={s.path}>
                <a href={`#/${s.path}`} aria-current={section === s.path ? "page" : undefined}>{s.label}</a>
              </li>
            ))}
          </ul>
        </nav>
        <span className="who" data-testid="who">{whoIs(credential)}{roles.length ? ` (${roles.join(", ")})` : ""}</span>
        <button type="button" className="link" onClick={() => { signOut(); setCredential(null); }}>Sign out</button>
      </header>
      <main id="main" tabIndex={-1}>{page}</main>
    </CanContext.Provider>
  );
}
