import { useState, type ChangeEvent } from "react";
import { CommerceApiError, type CommerceClient } from "@commerce/client";
import { exportProducts, importProducts } from "../admin";
import { problem } from "../api";

type RowError = { row: number; column: string; message: string };

/** Export the catalogue as CSV; import a CSV (every row checked first, errors shown by row and column). */
export function CsvTransfer({ client, onImported }: { client: CommerceClient; onImported: (text: string) => void }) {
  const [errors, setErrors] = useState<RowError[]>([]);
  const [message, setMessage] = useState("");
  const [busy, setBusy] = useState(false);

  async function download() {
    try {
      const { csv } = await exportProducts(client);
      const link = document.createElement("a");
      link.href = URL.createObjectURL(new Blob([csv], { type: "text/csv" }));
      link.download = "products.csv";
      link.click();
      URL.revokeObjectURL(link.href);
    } catch (caught) {
      setMessage(problem(caught));
    }
  }

  async function upload(event: ChangeEvent<HTMLInputElement>) {
    const file = event.target.files?.[0];
    event.target.value = "";
    if (!file) return;
    setBusy(true);
    setErrors([]);
    setMessage("");
    try {
      const result = await importProducts(client, await file.text());
      onImported(`${file.name}: ${result.rows} rows, ${result.products_created} products created, ${result.products_updated} updated.`);
    } catch (caught) {
      const rows = caught instanceof CommerceApiError ? (caught.detail as { rows?: RowError[] } | undefined)?.rows : undefined;
      setMessage(`${file.name}: ${problem(caught)}`);
      setErrors(rows ?? []);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="card" aria-labelledby="csv-title">
      <h2 id="csv-title">CSV export and import</h2>
      <div className="row">
        <button type="button" onClick={() => void download()}>Export CSV</button>
        <label className="inline" htmlFor="csv-file">Import CSV</label>
        <input id="csv-file" type="file" accept=".csv,text/csv" disabled={busy} onChange={(e) => void upload(e)} />
      </div>
      <p className="hint">One row per variant; price in cents. Every row is checked before anything is written;
        the same file imported twice changes nothing.</p>
      {message && <p role="alert" className="error">{message}</p>}
      {errors.length > 0 && (
        <div className="table-wrap">
          <table data-testid="import-errors">
            <caption className="sr-only">Errors in the file</caption>
            <thead><tr><th scope="col">Row</th><th scope="col">Column</th><th scope="col">Problem</th></tr></thead>
            <tbody>
              {errors.map((e, i) => <tr key={i} className="low"><td>{e.row}</td><td>{e.column}</td><td>{e.message}</td></tr>)}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
