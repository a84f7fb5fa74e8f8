import { useState } from "react";
import type { CommerceClient } from "@commerce/client";
import { problem } from "../api";
import { useLoad } from "../components/useLoad";
import { money, when } from "../format";

type Status = "open" | "paid" | "void";

/** Invoices by status (open ones oldest due first, overdue flagged); mark one paid, open its PDF. */
export function Invoices({ client }: { client: CommerceClient }) {
  const [status, setStatus] = useState<Status>("open");
  const loaded = useLoad(() => client.admin.listInvoices({ status, limit: 100 }), [client, status]);
  const [error, setError] = useState("");
  const [message, setMessage] = useState("");

  async function markPaid(id: string, number: string) {
    try {
      await client.admin.markInvoicePaid(id);
      setError("");
      setMessage(`Invoice ${number} marked paid.`);
      loaded.reload();
    } catch (caught) {
      setError(problem(caught));
    }
  }

  async function openPdf(id: string) {
    try {
      const invoice = await client.admin.getInvoice(id);
      if (invoice.url) window.open(invoice.url, "_blank", "noopener");
    } catch (caught) {
      setError(problem(caught));
    }
  }

  return (
    <>
      <h1>Invoices</h1>
      <div className="filters">
        <label>Status <select value={status} onChange={(e) => setStatus(e.target.value as Status)}>
          <option value="open">open</option><option value="paid">paid</option>
          <option value="void">void</option></select></label>
      </div>
      {error && <p role="alert" className="error">{error}</p>}
      <div aria-live="polite">{message && <p className="ok" role="status">{message}</p>}</div>
      {loaded.error && <p role="alert" className="error">{loaded.error}</p>}
      {loaded.data && loaded.data.data.length === 0 && <p>No {status} invoices.</p>}
      {loaded.data && loaded.data.data.length > 0 && (
        <div className="table-wrap">
          <table>
            <thead><tr><th scope="col">Number</th><th scope="col">Company</th><th scope="col">Order</th>
              <th scope="col">Total</th><th scope="col">Due</th><th scope="col">Status</th>
              <th scope="col"><span className="sr-only">Actions</span></th></tr></thead>
            <tbody>
              {loaded.data.data.map((i) => (
                <tr key={i.id}>
                  <td className="mono">{i.number}</td>
                  <td>{i.buyer.name}{i.buyer.vat_id && <span className="mono"> ({i.buyer.vat_id})</span>}</td>
                  <td><a className="mono" href={`#/orders/${i.order_id}`}>{i.order_id}</a></td>
                  <td className="num">{money(i.total, i.currency)}</td>
                  <td>{when(i.due_at)}</td>
                  <td>{i.status === "paid" ? `paid ${when(i.paid_at)}` : i.status === "void" ? "void"
                    : i.overdue ? <strong>overdue</strong> : "open"}
                    {i.reminders > 0 && ` · ${i.reminders} reminder${i.reminders > 1 ? "s" : ""}`}</td>
                  <td>
                    <button type="button" className="link" onClick={() => openPdf(i.id)}>PDF</button>
                    {i.status === "open" && (
                      <button type="button" onClick={() => markPaid(i.id, i.number)}>Mark paid</button>)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
