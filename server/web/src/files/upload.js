// The drawings page's upload bundle (built to server/web/static/files/upload.js by `make web`):
// tus-js-client's browser `Upload` with the options every drawing upload shares, so the page script
// (static/drawings.js) holds no protocol details.
// Must not: decide which catalogue entry a file belongs to (the page does) or retry without end.
import { Upload, isSupported } from "tus-js-client";

export { Upload, isSupported };

export const ENDPOINT = "/files/";
export const CHUNK_SIZE = 8 * 1024 * 1024;
export const RETRY_DELAYS = [0, 1000, 3000, 5000];

// The key under which tus-js-client remembers an unfinished upload (in localStorage), so picking the
// same file again for the same entry, even after a reload, resumes it; another entry starts afresh
// (the entry is fixed in the upload's metadata when it is created).
function fingerprint(drawingId) {
  return (file, options) =>
    Promise.resolve(["tongban-drawing", drawingId, file.name, file.type, file.size, file.lastModified,
      options.endpoint, options.parallelUploads].join("|"));
}

// A tus upload of `file` as a new version of catalogue entry `drawingId`. `parallel` splits it into two
// partial uploads that the server joins (tus concatenation); `chunkSize` may be lowered (tests do);
// the rest are tus-js-client's callbacks (onProgress, onSuccess, onError).
export function drawingUpload(file, drawingId, csrfToken, { parallel = false, chunkSize = CHUNK_SIZE, ...callbacks } = {}) {
  return new Upload(file, {
    endpoint: ENDPOINT,
    chunkSize,
    retryDelays: RETRY_DELAYS,
    removeFingerprintOnSuccess: true,
    fingerprint: fingerprint(drawingId),
    metadata: { filename: file.name, filetype: file.type || "application/octet-stream", drawing: drawingId },
    headers: { "x-csrf-token": csrfToken },
    ...(parallel ? { parallelUploads: 2 } : {}),
    ...callbacks,
  });
}

// Start `upload`, resuming an unfinished upload of the same file to the same entry when one is known.
export async function startUpload(upload) {
  const previous = await upload.findPreviousUploads().catch(() => []);
  if (previous.length) upload.resumeFromPreviousUpload(previous[0]);
  upload.start();
}

// The Chinese message of a failed upload: the server's own message when it sent one.
export function uploadErrorMessage(error) {
  const response = error?.originalResponse;
  if (response) {
    try {
      const message = JSON.parse(response.getBody())?.error?.message;
      if (message) return message;
    } catch { /* not our JSON error */ }
    return `服务器拒绝了上传（${response.getStatus()}）`;
  }
  return "网络连接失败，请检查网络后重试";
}
