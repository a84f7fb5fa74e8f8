// The marketing email's unsubscribe link lands here: one click POSTs its token to the API (a GET never
// unsubscribes, because mail scanners open links). Mail clients use the List-Unsubscribe header instead.
import { request } from "../api.js";
import { showError } from "../ui.js";

const token = new URLSearchParams(location.search).get("token") || "";
const button = document.getElementById("unsubscribe");

button.addEventListener("click", async () => {
  button.disabled = true;
  try {
    await request("POST", `/unsubscribe?token=${encodeURIComponent(token)}`);
    document.getElementById("done").hidden = false;
  } catch (error) {
    button.disabled = false;
    showError(document.getElementById("notice"), error);
  }
});
