import { useState, type FormEvent } from "react";
import type { CommerceClient, Order } from "@commerce/client";
import { useLoad } from "../components/useLoad";
import { money, when } from "../format";
import { go } from "../router";

type Status = "" | "pending_payment" | "paid" | "cancelled" | "needs_review";
const PAYMENT = ["", "pending", "paid", "partially_refunded", "refunded", "failed"];
const FULFILMENT = ["", "unfulfilled", "requested", "partially_shipped", "shipped"];

/** Status filters on the server; payment, fulfilment, dates and email filter the pages loaded so far. */
export function Orders({ client }: { client: CommerceClient }) {
  const toShip = window.location.hash.includes("ship=1");
  const [status, setStatus] = useState<Status>(toShip ? "paid" : "");
  const [payment, setPayment] = useState("");
  const [fulfilment, setFulfilment] = useState("");
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const [email, setEmail] = useState("");
  const [find, setFind] = useState("");
  const [more, setMore] = useState<Order[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const first = useLoad(async () => {
    const page = await client.admin.listOrders(status ? { status, limit: 100 } : { limit: 100 });
    setMore([]);
    setCursor(page.next_cursor ?? null);
    return page.data;
  }, [client, status]);

  async function loadMore() {
    if (!cursor) return;
    const page = await client.admin.listOrders(status ? { status, limit: 100, cursor } : { limit: 100, cursor });
    setMore((loaded) => [...loaded, ...page.data]);
    setCursor(page.next_cursor ?? null);
  }

  function open(event: FormEvent) {
    event.preventDefault();
    if (find.trim()) go(`orders/${find.trim()}`);
  }

  const shown = [...(first.data ?? []), ...more].filter((o) =>
    (!payment || o.payment_status === payment)
    && (!fulfilment || o.fulfilment_status === fulfilment)
    && (!toShip || (o.fulfilment_status !== "shipped" && o.payment_status !== "refunded"))
    && (!from || o.created_at.slice(0, 10) >= from)
    && (!to || o.created_at.slice(0, 10) <= to)
    && (!email || o.email.toLowerCase().includes(email.trim().toLowerCase())));

  return (
    <>
      <h1>{toShip ? "Orders to ship" : "Orders"}</h1>
      <form className="row" onSubmit={open} role="search" aria-label="Open an order">
        <label htmlFor="find-order">Order id</label>
        <input id="find-order" value={find} onChange={(e) => setFind(e.target.value)} placeholder="ord_…" />
        <button type="submit">Open</button>
      </form>
      <fieldset className="filters">
        <legend>Filter</legend>
        <label>Status
          <select value={status} onChange={(e) => setStatus(e.target.value as Status)}>
            {["", "pending_payment", "paid", "needs_review", "cancelled"].map((s) => <option key={s} value={s}>{s || "any"}</option>)}
          </select>
        </label>
        <label>Payment
          <select value={payment} onChange={(e) => setPayment(e.target.value)}>
            {PAYMENT.map((s) => <option key={s} value={s}>{s || "any"}</option>)}
          </select>
        </label>
        <label>Fulfilment
          <select value={fulfilment} onChange={(e) => setFulfilment(e.target.value)}>
            {FULFILMENT.map((s) => <option key={s} value={s}>{s || "any"}</option>)}
          </select>
        </label>
        <label>From <input type="date" value={from} onChange={(e) => setFrom(e.target.value)} /></label>
        <label>To <input type="date" value={to} onChange={(e) => setTo(e.target.value)} /></label>
        <label>Email <input type="search" value={email} onChange={(e) => setEmail(e.target.value)} /></label>
      </fieldset>
      {first.error && <p role="alert" className="error">{first.error}</p>}
      {!first.data && !first.error && <p>Loading…</p>}
      {first.data && (
        <div className="table-wrap">
          <table className="orders">
            <caption className="sr-only">Orders, newest first</caption>
            <thead>
              <tr><th scope="col">Order</th><th scope="col">Placed</th><th scope="col">Email</th><th scope="col">Total</th>
                <th scope="col">Status</th><th scope="col">Payment</th><th scope="col">Fulfilment</th></tr>
            </thead>
            <tbody>
              {shown.map((o) => (
                <tr key={o.id}>
                  <td><a href={`#/orders/${o.id}`}>{o.id}</a></td>
                  <td>{when(o.created_at)}</td>
                  <td>{o.email}</td>
                  <td className="num">{money(o.total, o.currency)}</td>
                  <td><span className={`badge ${o.status}`}>{o.status}</span></td>
                  <td>{o.payment_status}</td>
                  <td>{o.fulfilment_status}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {shown.length === 0 && <p>No orders match.</p>}
        </div>
      )}
      {cursor && <button type="button" onClick={() => void loadMore()}>Load more orders</button>}
    </>
  );
}
