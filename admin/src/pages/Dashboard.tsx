import { useState } from "react";
import type { CommerceClient, SalesReport } from "@commerce/client";
import { SalesChart } from "../components/SalesChart";
import { useLoad } from "../components/useLoad";
import { isoDay, money } from "../format";
import { lowStock, funnel, waitingToShip } from "../admin";

const CURRENCIES = ["EUR", "USD", "GBP"] as const;

export function Dashboard({ client }: { client: CommerceClient }) {
  const to = isoDay(new Date());
  const from = isoDay(new Date(Date.now() - 29 * 86_400_000));
  const reports = useLoad(
    () => Promise.all(CURRENCIES.map((currency) => client.admin.salesReport({ from, to, currency }))),
    [client, from, to],
  );
  const shipping = useLoad(() => waitingToShip(client), [client]);
  const low = useLoad(() => lowStock(client), [client]);
  const steps = useLoad(() => funnel(client, from, to), [client, from, to]);
  const [chosen, setChosen] = useState<string | null>(null);

  const withSales = (reports.data ?? []).filter((r) => r.orders > 0 || r.carts_created > 0);
  const shown: SalesReport | undefined = (reports.data ?? []).find((r) => r.currency === chosen)
    ?? withSales[0] ?? reports.data?.[0];

  return (
    <>
      <h1>Dashboard</h1>
      {reports.error && <p role="alert" className="error">{reports.error}</p>}
      <section aria-labelledby="sales-title" className="card">
        <div className="row spread">
          <h2 id="sales-title">Sales, last 30 days</h2>
          <div role="group" aria-label="Currency" className="segmented">
            {(reports.data ?? []).map((r) => (
              <button key={r.currency} type="button" aria-pressed={r.currency === shown?.currency}
                      onClick={() => setChosen(r.currency)}>{r.currency}</button>
            ))}
          </div>
        </div>
        {!reports.data && !reports.error && <p>Loading…</p>}
        {shown && (
          <>
            <dl className="figures" data-testid="sales-figures">
              <div><dt>Revenue</dt><dd>{money(shown.revenue, shown.currency)}</dd></div>
              <div><dt>Orders</dt><dd data-testid="orders-total">{shown.orders}</dd></div>
              <div><dt>Average order value</dt><dd>{money(shown.average_order_value, shown.currency)}</dd></div>
              <div><dt>Refunds</dt><dd>{money(shown.refunds, shown.currency)}</dd></div>
              <div><dt>Recovered (abandoned carts)</dt><dd>{money(shown.recovered_revenue, shown.currency)}</dd></div>
            </dl>
            <SalesChart report={shown} />
            <details>
              <summary>Figures per day (table)</summary>
              <table>
                <thead><tr><th scope="col">Day</th><th scope="col">Orders</th><th scope="col">Revenue</th></tr></thead>
                <tbody>
                  {shown.by_day.filter((d) => d.orders > 0).map((d) => (
                    <tr key={d.date}><td>{d.date}</td><td>{d.orders}</td><td>{money(d.revenue, shown.currency)}</td></tr>
                  ))}
                </tbody>
              </table>
            </details>
          </>
        )}
      </section>
      <div className="grid">
        <section aria-labelledby="funnel-title" className="card">
          <h2 id="funnel-title">Checkout funnel</h2>
          {steps.error && <p className="error">{steps.error}</p>}
          {steps.data && (
            <ol className="funnel">
              <li>Carts created <strong>{steps.data.carts_created}</strong></li>
              <li>Checkouts <strong>{steps.data.checkouts}</strong></li>
              <li>Paid <strong>{steps.data.paid}</strong></li>
              <li>Conversion <strong>{steps.data.conversion_rate === null ? "—"
                : `${(steps.data.conversion_rate * 100).toFixed(1)} %`}</strong></li>
            </ol>
          )}
        </section>
        <section aria-labelledby="ship-title" className="card">
          <h2 id="ship-title">Waiting to ship</h2>
          {shipping.error && <p className="error">{shipping.error}</p>}
          {shipping.data && (
            <>
              <p className="big" data-testid="waiting-to-ship">{shipping.data.length}{shipping.data.length >= 100 ? "+" : ""}</p>
              <ul className="plain">
                {shipping.data.slice(0, 5).map((o) => (
                  <li key={o.id}><a href={`#/orders/${o.id}`}>{o.id.slice(0, 12)}…</a> {o.email} · {money(o.total, o.currency)}</li>
                ))}
              </ul>
              <a href="#/orders?ship=1">All orders to ship</a>
            </>
          )}
        </section>
        <section aria-labelledby="low-title" className="card">
          <h2 id="low-title">Low stock</h2>
          {low.error && <p className="error">{low.error}</p>}
          {low.data && low.data.length === 0 && <p>Nothing is low.</p>}
          {low.data && low.data.length > 0 && (
            <table>
              <thead><tr><th scope="col">SKU</th><th scope="col">Available</th><th scope="col">Threshold</th></tr></thead>
              <tbody>
                {low.data.map((s) => (
                  <tr key={s.sku} className="low"><td>{s.sku}</td><td>{s.available}</td><td>{s.low_stock_threshold ?? "—"}</td></tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      </div>
    </>
  );
}
