/**
 * Hands fetched bytes to the browser: as a file to save (`save`), or as a page in a new tab (`openPage`).
 * The files are fetched with the token in a header (see `Api.download`), never with it in a URL.
 */

/** Saves `blob` as `filename` through a temporary object URL. */
export function save(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.rel = 'noopener';
  document.body.append(a);
  a.click();
  a.remove();
  // The browser has started the download by now; the URL is freed a little later.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/**
 * Opens a tab at once (inside the click, so no pop-up blocker stops it) and shows `load()`'s page in it
 * when it arrives; the tab is closed if loading fails.
 */
export async function openPage(load: () => Promise<Blob>): Promise<void> {
  const tab = window.open('', '_blank');
  try {
    const blob = await load();
    const url = URL.createObjectURL(blob);
    if (tab) tab.location.href = url;
    else window.location.href = url;
  } catch (e) {
    tab?.close();
    throw e;
  }
}
