/**
 * The editor's per-launch write token: random for each server start, written into the page it serves (a `<meta>`
 * tag) and sent back by the page as a header on every save. Another page cannot read it (the same-origin policy
 * keeps the editor page's text from it, and a rebinding page is refused by the Host check before it gets the page),
 * and a custom header also makes the browser ask (CORS preflight) before any cross-origin request, which the editor
 * never allows.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import { EditorTokenMetaName } from "./page/editorApi.js";

/** A fresh token: 32 random bytes, base64url. */
export function NewEditorToken(): string {
  return randomBytes(32).toString("base64url");
}

/** True when the header carries exactly `token` (compared in constant time). */
export function TokenMatches(presented: string | string[] | undefined, token: string): boolean {
  if (typeof presented !== "string") return false;
  const a = Buffer.from(presented);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The page's HTML with the token as `<meta name="npc-faces-editor-token">`, first thing in `<head>`. */
export function EmbedEditorToken(html: string, token: string): string {
  const meta = `<meta name="${EditorTokenMetaName}" content="${token}" />`;
  const head = /<head\b[^>]*>/i.exec(html);
  if (head !== null) return html.slice(0, head.index + head[0].length) + meta + html.slice(head.index + head[0].length);
  // No <head> tag (a minimal page): the parser puts a leading <meta> into the implied head.
  const doctype = /^\s*<!doctype[^>]*>/i.exec(html);
  const at = doctype === null ? 0 : doctype[0].length;
  return html.slice(0, at) + meta + html.slice(at);
}
