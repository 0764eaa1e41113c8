/**
 * Server-Sent Events framing (the WHATWG event-stream format) over a fetch
 * body. Written here rather than taken from a package because the client has
 * no runtime dependencies; only `id:` and `data:` matter to the event feed.
 */

/** One dispatched event: its `id:` (if any) and joined `data:` lines. */
export interface Frame {
  id: string | undefined;
  data: string;
}

/** Turns chunks of text into lines, whichever of CRLF, LF or CR ends them. */
export class LineSplitter {
  private buffer = "";

  push(text: string): string[] {
    this.buffer += text;
    const lines: string[] = [];
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.buffer);
      if (!match) break;
      // A CR at the very end may be the first half of a CRLF still to come.
      if (match[0] === "\r" && match.index === this.buffer.length - 1) break;
      lines.push(this.buffer.slice(0, match.index));
      this.buffer = this.buffer.slice(match.index + match[0].length);
    }
    return lines;
  }
}

/** Feed it lines; it returns a frame at each blank line that ends one with data. */
export class FrameDecoder {
  private data: string[] = [];
  private id: string | undefined;

  feed(line: string): Frame | undefined {
    if (line === "") {
      const data = this.data;
      const id = this.id;
      this.data = [];
      this.id = undefined;
      return data.length > 0 ? { id, data: data.join("\n") } : undefined;
    }
    if (line.startsWith(":")) return undefined;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") this.data.push(value);
    else if (field === "id" && !value.includes("\0")) this.id = value;
    return undefined;
  }
}
