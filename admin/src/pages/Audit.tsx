import { useState, type FormEvent } from "react";
import type { CommerceClient } from "@commerce/client";
import type { AuditEntry } from "../admin";
import { appConfig, problem } from "../api";
import { authorization, currentCredential } from "../auth";
import { useLoad } from "../components/useLoad";
import { when } from "../format";

type Filters = { actor?: string; resource?: string; from?: string; to?: string };

function changes(entry: AuditEntry): string {
  const after = entry.after ?? {};
  const before = entry.before ?? {};
  return Object.keys({ ...before, ...after }).map((item) => {
    const was = (before[item] ?? {}) as Record<string, unknown>;
    const now = (after[item] ?? null) as Record<string, unknown> | null;
    if (now === null) return `${item}: deleted`;
    const fields = Object.keys(now).map((f) => `${f}: ${JSON.stringify(was[f] ?? null)} → ${JSON.stringify(now[f])}`);
    return `${item}: ${fields.join("; ")}`;
  }).join("\n");
}

export function Audit({ client }: { client: CommerceClient }) {
  const [form, setForm] = useState<Filters>({});
  const [filters, setFilters] = useState<Filters>({});
  const [more, setMore] = useState<AuditEntry[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState("");
  const loaded = useLoad(async () => {
    const page = await client.admin.audit({ ...filters, limit: 50 });
    setMore([]);
    setCursor(page.next_cursor ?? null);
    return page;
  }, [client, filters]);

  function apply(event: FormEvent) {
    event.preventDefault();
    setFilters(Object.fromEntries(Object.entries(form).filter(([, v]) => v)) as Filters);
  }

  async function loadMore() {
    if (!cursor) return;
    try {
      const page = await client.admin.audit({ ...filters, limit: 50, cursor });
      setMore((m) => [...m, ...page.data]);
      setCursor(page.next_cursor ?? null);
    } catch (caught) {
      setError(problem(caught));
    }
  }

  async function exportCsv() {
    const credential = currentCredential();
    const config = appConfig();
    if (!credential || !config) return;
    const query = new URLSearchParams(filters as Record<string, string>).toString();
    const answer = await fetch(`${config.apiBaseUrl}/admin/audit.csv${query ? `?${query}` : ""}`,
      { headers: { Authorization: authorization(credential) } });
    if (!answer.ok) { setError(`Export failed (${answer.status}).`); return; }
    const link = document.createElement("a");
    link.href = URL.createObjectURL(await answer.blob());
    link.download = "audit.csv";
    link.click();
    URL.revokeObjectURL(link.href);
  }

  const entries = [...(loaded.data?.data ?? []), ...more];
  const field = (name: keyof Filters, label: string, type = "text") => (
    <label>{label} <input type={type} value={form[name] ?? ""} onChange={(e) => setForm((f) => ({ ...f, [name]: e.target.value }))} /></label>
  );
  return (
    <>
      <h1>Audit log</h1>
      <form className="filters card" role="search" aria-label="Filter the audit log" onSubmit={apply}>
        {field("actor", "Actor")}
        {field("resource", "Resource starts with")}
        {field("from", "From", "date")}
        {field("to", "To", "date")}
        <button type="submit">Filter</button>
        <button type="button" onClick={() => void exportCsv()}>Export CSV</button>
      </form>
      {(loaded.error || error) && <p role="alert" className="error">{loaded.error || error}</p>}
      <div className="table-wrap" tabIndex={0} role="region" aria-label="Audit records">
        <table>
          <thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">Action</th>
            <th scope="col">Resource</th><th scope="col">Changes</th></tr></thead>
          <tbody>
            {entries.map((e) => (
              <tr key={e.id}>
                <td><time dateTime={e.at}>{when(e.at)}</time></td>
                <td>{e.actor}</td>
                <td className="mono">{e.action}</td>
                <td className="mono">{e.resource}</td>
                <td><pre className="changes">{changes(e)}</pre></td>
              </tr>
            ))}
          </tbody>
        </table>
        {loaded.data && entries.length === 0 && <p>No records.</p>}
      </div>
      {cursor && <button type="button" onClick={() => void loadMore()}>Load more</button>}
    </>
  );
}
