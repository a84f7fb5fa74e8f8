import { useMemo, useState } from "react";
import { clientFor } from "./api";
import { currentCredential, signOut, type Credential } from "./auth";
import { Dashboard } from "./pages/Dashboard";
import { Discounts } from "./pages/Discounts";
import { GiftCards } from "./pages/GiftCards";
import { OrderDetail } from "./pages/OrderDetail";
import { Orders } from "./pages/Orders";
import { Products } from "./pages/Products";
import { Returns } from "./pages/Returns";
import { SignIn } from "./pages/SignIn";
import { useRoute } from "./router";

const SECTIONS = [
  { path: "", label: "Dashboard" },
  { path: "orders", label: "Orders" },
  { path: "products", label: "Products" },
  { path: "returns", label: "Returns" },
  { path: "discounts", label: "Discounts" },
  { path: "gift-cards", label: "Gift cards" },
];

export function App() {
  const [credential, setCredential] = useState<Credential | null>(currentCredential);
  const route = useRoute();
  const client = useMemo(() => (credential ? clientFor(credential) : null), [credential]);

  if (!credential || !client) return <SignIn onSignedIn={setCredential} />;
  const [section = "", id] = route;
  let page;
  if (section === "orders" && id) page = <OrderDetail client={client} orderId={id} />;
  else if (section === "orders") page = <Orders client={client} />;
  else if (section === "products") page = <Products client={client} />;
  else if (section === "returns") page = <Returns client={client} />;
  else if (section === "discounts") page = <Discounts client={client} />;
  else if (section === "gift-cards") page = <GiftCards client={client} />;
  else page = <Dashboard client={client} />;

  return (
    <>
      <a className="skip" href="#main" onClick={(event) => { event.preventDefault(); document.getElementById("main")?.focus(); }}>
        Skip to content
      </a>
      <header className="top">
        <strong className="brand">Back office</strong>
        <nav aria-label="Sections">
          <ul>
            {SECTIONS.map((s) => (
              <li key={s.path}>
                <a href={`#/${s.path}`} aria-current={section === s.path ? "page" : undefined}>{s.label}</a>
              </li>
            ))}
          </ul>
        </nav>
        <button type="button" className="link" onClick={() => { signOut(); setCredential(null); }}>Sign out</button>
      </header>
      <main id="main" tabIndex={-1}>{page}</main>
    </>
  );
}
