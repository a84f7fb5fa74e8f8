import { useState, type FormEvent } from "react";
import type { CommerceClient, CompanyIn } from "@commerce/client";
import { problem } from "../api";
import { useLoad } from "../components/useLoad";
import { money, toMinor, when } from "../format";

/** B2B companies: create one (VAT id checked by the API), add buyers and approvers by email. */
export function Companies({ client }: { client: CommerceClient }) {
  const loaded = useLoad(() => client.admin.listCompanies({ limit: 100 }), [client]);
  const [name, setName] = useState("");
  const [vatId, setVatId] = useState("");
  const [line1, setLine1] = useState("");
  const [city, setCity] = useState("");
  const [postalCode, setPostalCode] = useState("");
  const [country, setCountry] = useState("DE");
  const [terms, setTerms] = useState("");
  const [credit, setCredit] = useState("");
  const [buyerCompany, setBuyerCompany] = useState("");
  const [buyerEmail, setBuyerEmail] = useState("");
  const [role, setRole] = useState<"buyer" | "approver">("buyer");
  const [limit, setLimit] = useState("");
  const [error, setError] = useState("");
  const [message, setMessage] = useState("");

  async function create(event: FormEvent) {
    event.preventDefault();
    const body: CompanyIn = {
      name, billing_address: { name, line1, city, postal_code: postalCode, country: country.toUpperCase() },
    };
    if (vatId) body.vat_id = vatId;
    if (terms) body.payment_terms_days = Number(terms);
    if (credit) body.credit_limit = { EUR: toMinor(credit, "EUR") };
    try {
      const company = await client.admin.createCompany(body);
      setError(""); setMessage(`${company.name} created (${company.id}).`);
      setName(""); setVatId(""); setLine1(""); setCity(""); setPostalCode(""); setTerms(""); setCredit("");
      loaded.reload();
    } catch (caught) {
      setError(problem(caught));
    }
  }

  async function addBuyer(event: FormEvent) {
    event.preventDefault();
    try {
      const buyer = await client.admin.addBuyer(buyerCompany, {
        email: buyerEmail, role, ...(limit ? { spending_limit: { EUR: toMinor(limit, "EUR") } } : {}),
      });
      setError(""); setMessage(`${buyer.email} is now a ${buyer.role}.`);
      setBuyerEmail(""); setLimit("");
    } catch (caught) {
      setError(problem(caught));
    }
  }

  return (
    <>
      <h1>Companies</h1>
      <form className="card" onSubmit={create} aria-labelledby="new-company">
        <h2 id="new-company">New company</h2>
        <div className="filters">
          <label>Name <input required value={name} onChange={(e) => setName(e.target.value)} /></label>
          <label>VAT id <input value={vatId} placeholder="DE123456789" onChange={(e) => setVatId(e.target.value)} /></label>
          <label>Street <input required value={line1} onChange={(e) => setLine1(e.target.value)} /></label>
          <label>City <input required value={city} onChange={(e) => setCity(e.target.value)} /></label>
          <label>Postal code <input required value={postalCode} onChange={(e) => setPostalCode(e.target.value)} /></label>
          <label>Country <input required maxLength={2} value={country} onChange={(e) => setCountry(e.target.value)} /></label>
          <label>Payment terms (days) <input type="number" min={0} max={365} value={terms} onChange={(e) => setTerms(e.target.value)} /></label>
          <label>Credit limit (EUR) <input inputMode="decimal" value={credit} onChange={(e) => setCredit(e.target.value)} /></label>
        </div>
        <button type="submit">Create</button>
      </form>
      <form className="card" onSubmit={addBuyer} aria-labelledby="new-buyer">
        <h2 id="new-buyer">Add a buyer</h2>
        <div className="filters">
          <label>Company <select required value={buyerCompany} onChange={(e) => setBuyerCompany(e.target.value)}>
            <option value="">Choose…</option>
            {loaded.data?.data.map((c) => <option key={c.id} value={c.id}>{c.name}</option>)}</select></label>
          <label>Email <input required type="email" value={buyerEmail} onChange={(e) => setBuyerEmail(e.target.value)} /></label>
          <label>Role <select value={role} onChange={(e) => setRole(e.target.value as "buyer" | "approver")}>
            <option value="buyer">buyer</option><option value="approver">approver</option></select></label>
          <label>Spending limit (EUR) <input inputMode="decimal" value={limit} onChange={(e) => setLimit(e.target.value)} /></label>
        </div>
        <button type="submit">Add</button>
      </form>
      {error && <p role="alert" className="error">{error}</p>}
      <div aria-live="polite">{message && <p className="ok" role="status">{message}</p>}</div>
      {loaded.error && <p role="alert" className="error">{loaded.error}</p>}
      {loaded.data && (
        <div className="table-wrap">
          <table>
            <thead><tr><th scope="col">Company</th><th scope="col">VAT id</th><th scope="col">Terms</th>
              <th scope="col">Credit limit</th><th scope="col">Created</th></tr></thead>
            <tbody>
              {loaded.data.data.map((c) => (
                <tr key={c.id}>
                  <td>{c.name} <span className="mono">{c.id}</span></td>
                  <td className="mono">{c.vat_id ?? "—"}</td>
                  <td className="num">{c.payment_terms_days != null ? `${c.payment_terms_days} days` : "—"}</td>
                  <td>{Object.entries(c.credit_limit ?? {}).map(([cur, amount]) => money(amount, cur)).join(", ") || "—"}</td>
                  <td>{when(c.created_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
