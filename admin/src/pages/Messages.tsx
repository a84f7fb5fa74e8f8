import { useState, type FormEvent } from "react";
import type { CommerceClient } from "@commerce/client";
import { problem } from "../api";
import { useCan } from "../components/useCan";
import { useLoad } from "../components/useLoad";
import { when } from "../format";

export function Messages({ client }: { client: CommerceClient }) {
  const [status, setStatus] = useState<"open" | "closed">("open");
  const loaded = useLoad(() => client.admin.inbox({ status, limit: 50 }), [client, status]);
  return (
    <>
      <h1>Messages</h1>
      <div className="row" role="group" aria-label="Threads">
        {(["open", "closed"] as const).map((s) => (
          <button key={s} type="button" aria-pressed={status === s} onClick={() => setStatus(s)}>{s}</button>
        ))}
      </div>
      {loaded.error && <p role="alert" className="error">{loaded.error}</p>}
      {loaded.data && (
        <div className="table-wrap">
          <table>
            <thead><tr><th scope="col">Order</th><th scope="col">Customer</th><th scope="col">Messages</th>
              <th scope="col">Last from</th><th scope="col">Last message</th></tr></thead>
            <tbody>
              {loaded.data.data.map((t) => (
                <tr key={t.order_id}>
                  <td><a href={`#/messages/${t.order_id}`} className="mono">{t.order_id}</a></td>
                  <td>{t.email}</td>
                  <td className="num">{t.messages_count}</td>
                  <td>{t.last_author}</td>
                  <td>{when(t.last_message_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {loaded.data.data.length === 0 && <p>No {status} threads.</p>}
        </div>
      )}
    </>
  );
}

export function MessageThread({ client, orderId }: { client: CommerceClient; orderId: string }) {
  const can = useCan();
  const loaded = useLoad(() => client.admin.orderMessages(orderId), [client, orderId]);
  const [body, setBody] = useState("");
  const [internal, setInternal] = useState(false);
  const [message, setMessage] = useState("");
  const [error, setError] = useState("");

  async function act(what: string, action: () => Promise<unknown>) {
    try {
      await action();
      setError("");
      setMessage(what);
      loaded.reload();
    } catch (caught) {
      setError(problem(caught));
    }
  }

  function send(event: FormEvent) {
    event.preventDefault();
    void act(internal ? "Internal note added." : "Reply sent; the customer is emailed.", async () => {
      await client.admin.reply(orderId, { body, internal });
      setBody("");
    });
  }

  return (
    <>
      <p><a href="#/messages">← Messages</a> · <a href={`#/orders/${orderId}`}>Order</a></p>
      <h1>Messages of <span className="mono">{orderId}</span></h1>
      {loaded.error && <p role="alert" className="error">{loaded.error}</p>}
      <ol className="thread">
        {(loaded.data?.data ?? []).map((m) => (
          <li key={m.id} className={m.internal ? "internal" : m.author}>
            <p><strong>{m.internal ? "Internal note" : m.author}</strong> <time dateTime={m.created_at}>{when(m.created_at)}</time></p>
            <p>{m.body}</p>
          </li>
        ))}
      </ol>
      <div aria-live="polite">{message && <p className="ok" role="status">{message}</p>}</div>
      {error && <p role="alert" className="error">{error}</p>}
      {can("messages:reply") && (
        <>
          <form className="card" onSubmit={send} aria-labelledby="reply-title">
            <h2 id="reply-title">Reply</h2>
            <label htmlFor="reply-body">Message</label>
            <textarea id="reply-body" required maxLength={4000} value={body} onChange={(e) => setBody(e.target.value)} />
            <label className="inline"><input type="checkbox" checked={internal} onChange={(e) => setInternal(e.target.checked)} />
              Internal note (not sent to the customer)</label>
            <button type="submit">Send</button>
          </form>
          <button type="button" onClick={() => void act("Thread closed.", () => client.admin.closeThread(orderId))}>Close thread</button>
        </>
      )}
    </>
  );
}
