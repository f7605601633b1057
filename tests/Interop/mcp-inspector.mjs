// The MCP inspector's CLI mode (@modelcontextprotocol/inspector-cli, what `npx @modelcontextprotocol/inspector --cli` runs)
// lists the tools through the gate: `mcp-inspector-cli --cli <gate>/mcp --transport http --method tools/list`.
// Env: GATE_URL. Prints one JSON line: {exitCode, tools: [names], output (when not JSON)}.
import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { gateUrl, run } from "./lib.mjs";

const require = createRequire(import.meta.url);
const cli = join(dirname(require.resolve("@modelcontextprotocol/inspector-cli/package.json")), "build", "cli.js");

await run(async () => {
  const args = [cli, "--cli", `${gateUrl()}/mcp`, "--transport", "http", "--method", "tools/list"];
  const { code, stdout, stderr } = await new Promise(resolve => {
    // cwd = its build folder: 1.0.3 finds its own package.json by testing "../package.json" against the working directory
    // but importing it relative to the module, so it only works when both agree.
    execFile("node", args, { cwd: dirname(cli), timeout: 60000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) =>
      resolve({ code: error ? (error.code ?? 1) : 0, stdout, stderr }));
  });
  // It prints the tools/list result as (pretty) JSON on stdout, after a deprecation notice on stderr.
  const start = stdout.indexOf("{");
  let listed = null;
  try {
    listed = start >= 0 ? JSON.parse(stdout.slice(start)) : null;
  } catch {
    listed = null;
  }
  if (code !== 0 || !listed) throw new Error(`inspector cli exited ${code}: ${stdout}\n${stderr}`);
  return { exitCode: code, command: ["mcp-inspector-cli", ...args.slice(1)].join(" "), tools: listed.tools.map(t => t.name) };
});
