// The official TypeScript v2 client (npm @modelcontextprotocol/client 2.x) pinned to protocol
// 2026-07-28, against one of our servers over streamable HTTP, in lockstep: the fixture's tool
// waits for an ack file that the progress handler writes only when progress i arrives.
//
// Usage: node lockstep.mjs <url> <ack dir> <steps>
// Prints one JSON line: the negotiated version, the progress messages, the result's text.
import { writeFileSync } from 'node:fs';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';

const [url, dir, steps] = process.argv.slice(2);
const client = new Client(
  { name: 'ts-interop', version: '1.0.0' },
  { versionNegotiation: { mode: { pin: '2026-07-28' } } }
);
await client.connect(new StreamableHTTPClientTransport(new URL(url)));
const messages = [];
const result = await client.callTool(
  { name: 'lockstep', arguments: { steps: Number(steps), dir } },
  {
    onprogress: (p) => {
      messages.push(p.message);
      // Only now may the tool go past step i.
      writeFileSync(`${dir}/ack-${p.progress}`, 'ack');
    }
  }
);
const text = result.content.map((c) => c.text ?? '').join('');
console.log(
  JSON.stringify({ version: client.getNegotiatedProtocolVersion(), messages, text })
);
await client.close();
