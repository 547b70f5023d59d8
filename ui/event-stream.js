// A Server-Sent Events reader over fetch, for the debugger. Unlike EventSource it delivers
// events of every type (EventSource only those one listens for by name), sends the token as a
// header, and tells why a hub refused (status and problem detail). It resumes with
// Last-Event-ID after a drop, as EventSource does.

const RETRY_MS = 1000;

/**
 * Opens `url` and calls `onEvent({ type, data, id })` for every event; `onState(state, detail)`
 * with 'connecting', 'open', 'retrying' or 'refused'. Returns a function that closes it.
 */
export function readEvents(url, { token, lastEventId, onEvent, onState }) {
  const controller = new AbortController();
  let lastId = lastEventId ?? '';
  let retryMs = RETRY_MS;

  const connect = async () => {
    while (!controller.signal.aborted) {
      onState('connecting');
      const headers = { Accept: 'text/event-stream' };
      if (token) headers.Authorization = `Bearer ${token}`;
      if (lastId) headers['Last-Event-ID'] = lastId;
      let response;
      try {
        response = await fetch(url, { headers, signal: controller.signal, cache: 'no-store' });
      } catch {
        if (controller.signal.aborted) return;
        onState('retrying');
        await pause(retryMs, controller.signal);
        continue;
      }
      if (!response.ok) {
        const body = await response.text().catch(() => '');
        let detail = body;
        try {
          detail = JSON.parse(body).detail ?? body;
        } catch {
          // Not a problem document: the text as it is.
        }
        onState('refused', `${response.status}: ${detail}`);
        return;
      }
      onState('open');
      try {
        await parse(response.body, (event) => {
          if (event.id !== undefined) lastId = event.id;
          if (event.retry !== undefined) retryMs = event.retry;
          if (event.dispatch) onEvent({ type: event.type, data: event.data, id: lastId });
        });
      } catch {
        // The stream broke: resume below.
      }
      if (controller.signal.aborted) return;
      onState('retrying');
      await pause(retryMs, controller.signal);
    }
  };
  void connect();
  return () => controller.abort();
}

function pause(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Parses the event-stream format (WHATWG HTML, "Server-sent events") from a byte stream. */
async function parse(body, emit) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let type = '';
  let data = [];
  let hasData = false;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    // Lines end with CRLF, LF or CR; a CR at the very end may be the first half of a CRLF.
    const lines = buffer.split(/\r\n|\n|\r(?!$)/);
    buffer = lines.pop() ?? '';
    for (const line of lines) {
      if (line === '') {
        if (hasData) emit({ dispatch: true, type: type || 'message', data: data.join('\n') });
        type = '';
        data = [];
        hasData = false;
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      let text = colon === -1 ? '' : line.slice(colon + 1);
      if (text.startsWith(' ')) text = text.slice(1);
      if (field === 'event') type = text;
      else if (field === 'data') {
        data.push(text);
        hasData = true;
      } else if (field === 'id' && !text.includes('\0')) emit({ dispatch: false, id: text });
      else if (field === 'retry' && /^\d+$/.test(text)) {
        emit({ dispatch: false, retry: Number(text) });
      }
    }
  }
}
