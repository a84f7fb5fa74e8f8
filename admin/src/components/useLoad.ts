import { useCallback, useEffect, useState } from "react";
import { problem } from "../api";

/** `load()` on mount and whenever deps change; `reload()` after a write. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]) {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState("");
  const [tick, setTick] = useState(0);
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const run = useCallback(load, deps);
  useEffect(() => {
    let live = true;
    setError("");
    run().then((value) => { if (live) setData(value); }, (caught: unknown) => { if (live) setError(problem(caught)); });
    return () => { live = false; };
  }, [run, tick]);
  return { data, error, reload: () => setTick((n) => n + 1) };
}
