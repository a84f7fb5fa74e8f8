import { useState, type FormEvent } from "react";
import type { CommerceClient, GiftCard, IssueGiftCard } from "@commerce/client";
import { problem } from "../api";
import { useLoad } from "../components/useLoad";
import { money, toMinor, when } from "../format";

/** Gift cards: look one up by its code (exact; the code is stored only as a keyed hash), issue one (its code
 * is shown this once), disable one, and read its ledger. The newest cards are listed below. */
export function GiftCards({ client }: { client: CommerceClient }) {
  const recent = useLoad(() => client.admin.listGiftCards({ limit: 50 }), [client]);
  const [lookup, setLookup] = useState("");
  const [shown, setShown] = useState<GiftCard | null>(null);
  const [amount, setAmount] = useState("");
  const [currency, setCurrency] = useState("EUR");
  const [recipient, setRecipient] = useState("");
  const [issuedCode, setIssuedCode] = useState("");
  const [error, setError] = useState("");

  async function find(event: FormEvent) {
    event.preventDefault();
    try {
      const page = await client.admin.listGiftCards({ code: lookup.trim() });
      setShown(page.data[0] ?? null);
      setError("");
    } catch (caught) {
      setShown(null);
      setError(problem(caught));
    }
  }

  async function open(id: string) {
    try {
      setShown(await client.admin.getGiftCard(id));
      setError("");
    } catch (caught) {
      setError(problem(caught));
    }
  }

  async function issue(event: FormEvent) {
    event.preventDefault();
    const body: IssueGiftCard = { currency, amount: toMinor(amount, currency) };
    if (recipient.trim()) body.recipient_email = recipient.trim();
    try {
      const card = await client.admin.issueGiftCard(body);
      setIssuedCode(card.code ?? "");
      setShown(card);
      setAmount(""); setRecipient(""); setError("");
      recent.reload();
    } catch (caught) {
      setError(problem(caught));
    }
  }

  async function disable(id: string) {
    try {
      setShown(await client.admin.disableGiftCard(id));
      recent.reload();
    } catch (caught) {
      setError(problem(caught));
    }
  }

  return (
    <>
      <h1>Gift cards</h1>
      <form className="card" onSubmit={find} aria-labelledby="find-card">
        <h2 id="find-card">Look up a card</h2>
        <div className="filters">
          <label>Code <input required value={lookup} onChange={(e) => setLookup(e.target.value)} autoComplete="off" /></label>
        </div>
        <button type="submit">Find</button>
      </form>
      <form className="card" onSubmit={issue} aria-labelledby="issue-card">
        <h2 id="issue-card">Issue a card</h2>
        <div className="filters">
          <label>Amount <input required inputMode="decimal" value={amount} onChange={(e) => setAmount(e.target.value)} /></label>
          <label>Currency <select value={currency} onChange={(e) => setCurrency(e.target.value)}>
            {["EUR", "USD", "GBP"].map((c) => <option key={c}>{c}</option>)}</select></label>
          <label>Recipient email <input type="email" value={recipient} onChange={(e) => setRecipient(e.target.value)} /></label>
        </div>
        <button type="submit">Issue</button>
      </form>
      {error && <p role="alert" className="error">{error}</p>}
      <div aria-live="polite">
        {issuedCode && <p className="ok" role="status">Code (shown once): <strong className="mono">{issuedCode}</strong></p>}
      </div>
      {shown && (
        <section className="card" aria-labelledby="card-detail">
          <h2 id="card-detail">Card …{shown.last4}</h2>
          <p>{money(shown.balance, shown.currency)} of {money(shown.initial_amount, shown.currency)} · {shown.status}
            {shown.expires_at ? ` · expires ${when(shown.expires_at)}` : ""}</p>
          {shown.status !== "disabled" && <button type="button" onClick={() => disable(shown.id)}>Disable</button>}
          {shown.ledger && (
            <table>
              <thead><tr><th scope="col">When</th><th scope="col">Kind</th><th scope="col">Amount</th><th scope="col">Order</th></tr></thead>
              <tbody>
                {shown.ledger.map((entry, index) => (
                  <tr key={index}>
                    <td>{when(entry.at)}</td><td>{entry.kind}</td>
                    <td className="num">{money(entry.amount, shown.currency)}</td>
                    <td className="mono">{entry.order_id ? <a href={`#/orders/${entry.order_id}`}>{entry.order_id}</a> : "—"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      )}
      {recent.error && <p role="alert" className="error">{recent.error}</p>}
      {recent.data && (
        <div className="table-wrap">
          <table>
            <caption>Recently issued</caption>
            <thead><tr><th scope="col">Card</th><th scope="col">Balance</th><th scope="col">Status</th>
              <th scope="col">Recipient</th><th scope="col">Issued</th></tr></thead>
            <tbody>
              {recent.data.data.map((card) => (
                <tr key={card.id}>
                  <td className="mono"><button type="button" className="link" onClick={() => open(card.id)}>…{card.last4}</button></td>
                  <td className="num">{money(card.balance, card.currency)}</td>
                  <td>{card.status}</td>
                  <td>{card.recipient_email ?? "—"}</td>
                  <td>{when(card.created_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
