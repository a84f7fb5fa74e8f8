import { createContext, useContext } from "react";
import type { Permission } from "../roles";

/** Whether the signed-in person's role (or key) may do something: pages hide what it cannot. */
export const CanContext = createContext<(permission: Permission) => boolean>(() => true);

export function useCan(): (permission: Permission) => boolean {
  return useContext(CanContext);
}
