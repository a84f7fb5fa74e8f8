import { useState, type FormEvent } from "react";
import type { CommerceClient } from "@commerce/client";
import { changeStaffRole, inviteStaff, listStaff, setStaffEnabled, type StaffMember, type StaffRole } from "../admin";
import { problem } from "../api";
import { useLoad } from "../components/useLoad";
import { when } from "../format";

const ROLES: StaffRole[] = ["owner", "manager", "support", "fulfilment"];
const STATUS: Record<string, string> = {
  CONFIRMED: "active",
  FORCE_CHANGE_PASSWORD: "invited (temporary password)",
  RESET_REQUIRED: "password reset required",
};

/** Staff accounts (the owner's only): the staff Cognito pool's users and their roles. Invite someone (Cognito
 * emails a temporary password), change a role, disable or enable an account. The API keeps one enabled
 * owner at least: the last one cannot be demoted or disabled. */
export function Staff({ client, me }: { client: CommerceClient; me: string }) {
  const staff = useLoad(() => listStaff(client), [client]);
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<StaffRole>("support");
  const [error, setError] = useState("");
  const [done, setDone] = useState("");

  async function act(action: () => Promise<StaffMember>, message: (m: StaffMember) => string) {
    try {
      const changed = await action();
      setError("");
      setDone(message(changed));
      staff.reload();
    } catch (caught) {
      setDone("");
      setError(problem(caught));
    }
  }

  async function invite(event: FormEvent) {
    event.preventDefault();
    await act(() => inviteStaff(client, email.trim(), role), (m) => `Invited ${m.email} as ${m.roles.join(", ")}.`);
    setEmail("");
  }

  return (
    <>
      <h1>Staff</h1>
      <form className="card" onSubmit={invite} aria-labelledby="invite-staff">
        <h2 id="invite-staff">Invite someone</h2>
        <div className="filters">
          <label>Email <input type="email" required value={email} onChange={(e) => setEmail(e.target.value)} autoComplete="off" /></label>
          <label>Role <select value={role} onChange={(e) => setRole(e.target.value as StaffRole)}>
            {ROLES.map((r) => <option key={r}>{r}</option>)}</select></label>
        </div>
        <button type="submit">Invite</button>
        <p className="hint">Cognito emails them a temporary password; they choose their own at the first sign-in.</p>
      </form>
      {error && <p role="alert" className="error">{error}</p>}
      <div aria-live="polite">{done && <p className="ok" role="status">{done}</p>}</div>
      {staff.error && <p role="alert" className="error">{staff.error}</p>}
      {staff.data && (
        <div className="table-wrap">
          <table>
            <caption>Staff accounts</caption>
            <thead><tr><th scope="col">Email</th><th scope="col">Role</th><th scope="col">Status</th>
              <th scope="col">Created</th><th scope="col">Account</th></tr></thead>
            <tbody>
              {staff.data.map((member) => (
                <tr key={member.username}>
                  <td>{member.email}{member.email === me ? " (you)" : ""}</td>
                  <td>
                    <select aria-label={`Role of ${member.email}`} value={member.roles[0] ?? ""}
                      onChange={(e) => act(() => changeStaffRole(client, member.username, e.target.value as StaffRole),
                        (m) => `${m.email} is now ${m.roles.join(", ")}.`)}>
                      {ROLES.map((r) => <option key={r}>{r}</option>)}
                    </select>
                    {member.roles.length > 1 && <span className="hint"> also {member.roles.slice(1).join(", ")}</span>}
                  </td>
                  <td>{member.enabled ? STATUS[member.status] ?? member.status.toLowerCase() : "disabled"}</td>
                  <td>{when(member.created)}</td>
                  <td>
                    <button type="button" aria-label={`${member.enabled ? "Disable" : "Enable"} ${member.email}`}
                      onClick={() => act(() => setStaffEnabled(client, member.username, !member.enabled),
                        (m) => `${m.email} is ${m.enabled ? "enabled" : "disabled"}.`)}>
                      {member.enabled ? "Disable" : "Enable"}
                    </button>
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
