import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App";
import { loadConfig } from "./api";
import "./styles.css";

const root = createRoot(document.getElementById("root")!);
loadConfig().then(
  () => root.render(<StrictMode><App /></StrictMode>),
  (error: unknown) => root.render(<p role="alert">The app could not read its configuration: {String(error)}</p>),
);
