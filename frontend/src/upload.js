// The upload widget: turns the plain upload form ([data-upload-form], templates/uploads/_upload_form.html)
// into an Uppy Dashboard. Everything works without it; see docs in frontend/README.md.
import Uppy from "@uppy/core";
import Dashboard from "@uppy/dashboard";
import en_US from "@uppy/locales/lib/en_US.js";
import es_ES from "@uppy/locales/lib/es_ES.js";
import XHRUpload from "@uppy/xhr-upload";

const POLL_MS = 2000;
const PENDING = new Set(["received", "scanning"]);

// Uppy's wording where ours differs: plain words, folders named, and "usted" in Spanish as on the
// rest of the site. Everything else comes from @uppy/locales.
const TEXT = {
  en: {
    uppy: en_US,
    strings: {
      dashboardTitle: "Choose files to send",
      dropPasteBoth: "Drag files or a folder here, %{browseFiles} or %{browseFolders}",
      dropPasteImportBoth: "Drag files or a folder here, %{browseFiles} or %{browseFolders}, or use:",
      dropHint: "Drop your files or folder here",
      browseFiles: "choose files",
      browseFolders: "choose a folder",
      myDevice: "Files on this phone",
      takePictureBtn: "Take a photo",
      uploadComplete: "Sent",
      complete: "Sent",
      xFilesSelected: { 0: "%{smart_count} file ready to send", 1: "%{smart_count} files ready to send" },
      uploadXFiles: { 0: "Send %{smart_count} file", 1: "Send %{smart_count} files" },
      uploadXNewFiles: { 0: "Send +%{smart_count} file", 1: "Send +%{smart_count} files" },
      done: "Add more files",
    },
    notSent: "The file was not sent. Check your internet connection and press retry. If it fails again, reload this page.",
    problems: "Some files were not sent",
    fileList: "Files to send",
    checking: "Files sent. We are checking them now.",
    checked: "Your files have been checked. Their status is in the list below.",
    sendingFirst: "Sending the files you chose before going on.",
    continueWithout: "Try again or remove them, or press Continue again to go on without them.",
    // Checked before sending, against the limits the server enforces (data-limit-* on the form).
    tooLarge: {
      photo: "“%{name}” is larger than %{mb} MB, the limit for a photo. Send a smaller copy, for example one taken with a phone.",
      pdf: "“%{name}” is larger than %{mb} MB, the limit for a PDF. Save or scan it again at a lower quality, or split it into several PDFs, and send those.",
      dicom: "“%{name}” is larger than %{mb} MB, the limit for one imaging (DICOM) file. Ask the hospital for a copy of the images on a CD or USB stick and send the folder.",
      archive: "“%{name}” is larger than %{mb} MB, the limit for a ZIP. Send the folder of images itself, or several smaller ZIPs.",
    },
  },
  es: {
    uppy: es_ES,
    strings: {
      dashboardTitle: "Elegir archivos para enviar",
      dropPasteBoth: "Arrastre aquí archivos o una carpeta, %{browseFiles} o %{browseFolders}",
      dropPasteImportBoth: "Arrastre aquí archivos o una carpeta, %{browseFiles} o %{browseFolders}, o use:",
      dropHint: "Suelte aquí sus archivos o su carpeta",
      browseFiles: "elija archivos",
      browseFolders: "elija una carpeta",
      myDevice: "Archivos del teléfono",
      takePictureBtn: "Hacer una foto",
      addMore: "Añadir más",
      addMoreFiles: "Añadir más archivos",
      addingMoreFiles: "Añadiendo más archivos",
      uploadComplete: "Enviado",
      complete: "Enviado",
      xFilesSelected: { 0: "%{smart_count} archivo listo para enviar", 1: "%{smart_count} archivos listos para enviar" },
      uploadXFiles: { 0: "Enviar %{smart_count} archivo", 1: "Enviar %{smart_count} archivos" },
      uploadXNewFiles: { 0: "Enviar +%{smart_count} archivo", 1: "Enviar +%{smart_count} archivos" },
      done: "Añadir más archivos",
    },
    notSent: "El archivo no se ha enviado. Compruebe su conexión a internet y pulse reintentar. Si vuelve a fallar, recargue esta página.",
    problems: "Algunos archivos no se han enviado",
    fileList: "Archivos para enviar",
    checking: "Archivos enviados. Ahora los estamos revisando.",
    checked: "Ya hemos revisado sus archivos. Su estado aparece en la lista de abajo.",
    sendingFirst: "Enviando los archivos que eligió antes de continuar.",
    continueWithout: "Vuelva a intentarlo o quítelos, o pulse Continuar otra vez para seguir sin ellos.",
    tooLarge: {
      photo: "«%{name}» ocupa más de %{mb} MB, el límite para una foto. Envíe una copia más pequeña, por ejemplo una hecha con el teléfono.",
      pdf: "«%{name}» ocupa más de %{mb} MB, el límite para un PDF. Guárdelo o escanéelo de nuevo con menos calidad, o divídalo en varios PDF, y envíe esos.",
      dicom: "«%{name}» ocupa más de %{mb} MB, el límite para un archivo de imagen (DICOM). Pida al hospital una copia de las imágenes en un CD o una memoria USB y envíe la carpeta.",
      archive: "«%{name}» ocupa más de %{mb} MB, el límite para un ZIP. Envíe la propia carpeta de imágenes, o varios ZIP más pequeños.",
    },
  },
};

/** The limit a file's name and browser type point to ("photo", "pdf", "dicom", "archive"), or null
 * when they say nothing we know: then only the server, which reads the content, decides. */
function limitKind(file) {
  const name = (file.name || "").toLowerCase();
  const ext = name.includes(".") ? name.slice(name.lastIndexOf(".") + 1) : "";
  const type = (file.type || "").toLowerCase();
  if (ext === "pdf" || type === "application/pdf") return "pdf";
  if (ext === "zip" || type === "application/zip" || type === "application/x-zip-compressed") return "archive";
  if (["jpg", "jpeg", "png", "heic", "heif"].includes(ext) || type.startsWith("image/")) return "photo";
  // DICOM files from a CD often have no extension, or a number as one (IM000001, 1.2.840....1)
  if (["dcm", "dicom"].includes(ext) || type === "application/dicom" || ext === "" || /^\d+$/.test(ext)) {
    return "dicom";
  }
  return null;
}

/** The server's answer to one file: its "problems" (too large, case full, ...) become the file's error.
 * An answer with problems is a refusal (`refused`): sending the same file again would be refused too. */
function checkResponse(xhr) {
  let body = null;
  try {
    body = JSON.parse(xhr.responseText);
  } catch {
    // not JSON: a sign-in page after the session ended, or a proxy's error page
  }
  const problems = Array.isArray(body?.problems) ? body.problems : [];
  const received = Array.isArray(body?.files) ? body.files : [];
  if (xhr.status >= 200 && xhr.status < 300 && received.length > 0) return;
  if (problems.length > 0 && xhr.status < 500) throw Object.assign(new Error(problems.join(" ")), { refused: true });
  throw new Error(""); // shown as TEXT.notSent
}

/** The file list below the form: the element after the "Your files" heading, after its status line. */
function listNodes(root) {
  let heading = root.querySelector("[data-upload-form]");
  while (heading && heading.tagName !== "H2") heading = heading.nextElementSibling;
  if (!heading) return null;
  const nodes = [];
  for (let el = heading.nextElementSibling; el; el = el.nextElementSibling) {
    nodes.push(el);
    if (!el.matches("[role=status]")) return nodes;
  }
  return null;
}

function enhance(form) {
  const lang = document.documentElement.lang.toLowerCase().startsWith("es") ? "es" : "en";
  const text = TEXT[lang];
  const token = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  const statusUrl = form.dataset.statusUrl;
  const note = form.querySelector(".hint")?.textContent.trim() || null;

  const widget = document.createElement("div");
  widget.className = "upload-widget";
  widget.dataset.testid = "upload-widget";
  const target = document.createElement("div");
  const problems = document.createElement("div");
  problems.className = "upload-problems";
  problems.setAttribute("role", "alert");
  const announcer = document.createElement("p");
  announcer.className = "visually-hidden";
  announcer.setAttribute("role", "status");
  widget.append(target, problems, announcer);
  form.before(widget);
  form.hidden = true;

  // Errors in words next to the widget, not only in Uppy's "?" tooltip: files that could not be sent
  // (kept in the widget, with its retry) and files refused (by the limits here or by the server),
  // which are taken out of the widget so that it offers no retry that could only be refused again.
  const errors = new Map();
  const refused = new Map();
  const showErrors = () => {
    problems.replaceChildren();
    if (errors.size === 0 && refused.size === 0) return;
    const heading = document.createElement("p");
    heading.className = "field-error";
    heading.textContent = text.problems;
    const list = document.createElement("ul");
    for (const message of [...refused.values(), ...errors.values()]) {
      const item = document.createElement("li");
      item.textContent = message;
      list.append(item);
    }
    problems.append(heading, list);
  };
  const withName = (file, message) => (message.includes(file.name) ? message : `${file.name}: ${message}`);

  const limits = {
    photo: Number(form.dataset.limitPhoto) || 0,
    pdf: Number(form.dataset.limitPdf) || 0,
    dicom: Number(form.dataset.limitDicom) || 0,
    archive: Number(form.dataset.limitArchive) || 0,
  };
  const overLimit = (file) => {
    const kind = limitKind(file);
    const limit = kind ? limits[kind] : 0;
    if (!limit || !(file.size > limit)) return null;
    const mb = String(Math.floor(limit / (1024 * 1024)));
    return text.tooLarge[kind].replace("%{name}", file.name).replace("%{mb}", mb);
  };

  const uppy = new Uppy({
    locale: text.uppy,
    autoProceed: false,
    onBeforeFileAdded: (file) => {
      const message = overLimit(file.data ?? file);
      if (!message) return true;
      refused.set(`limit:${file.name}:${file.data?.size}`, message);
      showErrors();
      return false; // never added, never sent
    },
  });
  uppy.use(Dashboard, {
    inline: true,
    target,
    width: "100%",
    height: 420,
    fileManagerSelectionType: "both", // DICOM CDs are folders (with a DICOMDIR file that has no extension)
    // Any type: the server decides from the content, never from the name.
    note,
    locale: { strings: text.strings },
    proudlyDisplayPoweredByUppy: false,
    // Thumbnails would be blob: URLs, which the site's CSP (img-src 'self' data:) does not allow.
    disableThumbnailGenerator: true,
    showNativePhotoCameraButton: window.matchMedia("(pointer: coarse)").matches,
    nativeCameraFacingMode: "environment",
    showRemoveButtonAfterComplete: false,
  });
  uppy.use(XHRUpload, {
    // One file per request as the whole body (no multipart form): the server streams it straight
    // into storage. The name goes percent-encoded in a header, never in the URL.
    endpoint: form.dataset.fileUrl,
    method: "PUT",
    formData: false,
    allowedMetaFields: [], // only the file: nothing else of the browser's is sent
    headers: (file) => ({
      "X-CSRFToken": token,
      Accept: "application/json",
      "X-File-Name": encodeURIComponent(file.name),
    }),
    limit: 2,
    timeout: 120_000,
    onAfterResponse: checkResponse,
    // Try again by itself only when the request never got an answer or a proxy was busy;
    // a refusal (too large, case full) would only be refused again.
    shouldRetry: (xhr) => [0, 502, 503, 504].includes(xhr.status),
  });

  // Uppy's file list scrolls, and once the files are sent it holds nothing focusable: let keyboard
  // users focus it to scroll (WCAG 2.1.1, axe's scrollable-region-focusable). With a single file
  // Uppy leaves out its role=list, which the item's role=listitem needs (axe's aria-required-parent).
  const fixFileList = () => {
    for (const list of target.querySelectorAll(".uppy-Dashboard-files")) {
      if (!list.hasAttribute("tabindex")) list.tabIndex = 0;
      if (!list.hasAttribute("role")) list.setAttribute("role", "list");
      if (!list.hasAttribute("aria-label")) list.setAttribute("aria-label", text.fileList);
    }
  };
  new MutationObserver(fixFileList).observe(target, {
    childList: true,
    subtree: true,
    attributeFilter: ["role", "tabindex", "aria-label"],
  });

  uppy.on("upload-error", (file, error) => {
    if (!file) return;
    if (error?.refused) {
      // Refused by the server (4xx with its reasons): only a network error or a busy server is
      // worth retrying, so the file leaves the widget and its reason stays here.
      refused.set(file.id, withName(file, error.message));
      showErrors();
      setTimeout(() => uppy.removeFile(file.id), 0);
      return;
    }
    const message = error?.message && !error.isNetworkError ? error.message : text.notSent;
    uppy.setFileState(file.id, { error: message });
    errors.set(file.id, withName(file, message));
    showErrors();
  });
  const forget = (file) => {
    if (file && errors.delete(file.id)) showErrors();
  };
  uppy.on("upload-retry", forget);
  uppy.on("retry-all", (files) => files.forEach(forget));
  uppy.on("file-removed", forget);

  // The server-rendered file list, kept up to date: new rows as files arrive, then the status of
  // each row every 2 s until none is being checked (the page's meta refresh does this without
  // JavaScript). Rows are only replaced with the server's own HTML, never built here.
  const refreshList = async () => {
    const response = await fetch(window.location.href, { headers: { Accept: "text/html" } });
    if (!response.ok) return;
    const fresh = listNodes(new DOMParser().parseFromString(await response.text(), "text/html"));
    const stale = listNodes(document);
    if (!fresh || !stale) return;
    stale[0].before(...fresh.map((node) => document.adoptNode(node)));
    stale.forEach((node) => node.remove());
  };
  const pollOnce = async () => {
    const response = await fetch(statusUrl, { headers: { Accept: "application/json" } });
    if (!response.ok) return false;
    const { files } = await response.json();
    let changed = false;
    for (const file of files) {
      const tag = document.querySelector(`[data-upload="${CSS.escape(file.id)}"] .tag`); // a row, or a file of a series
      if (!tag) {
        changed = true; // a new file: its row comes from the server
      } else if (!tag.classList.contains(`tag--upload-${file.status}`)) {
        tag.className = `tag tag--upload-${file.status}`;
        tag.textContent = file.status_label;
        changed ||= !PENDING.has(file.status); // the full row has the reason, hints and link
      }
    }
    const checking = files.some((file) => PENDING.has(file.status));
    if (changed || !checking) await refreshList();
    return checking;
  };
  let polling = false;
  let again = false;
  const poll = async () => {
    if (!statusUrl) return;
    if (polling) {
      again = true; // a file arrived meanwhile: look once more before stopping
      return;
    }
    polling = true;
    try {
      do {
        again = false;
        while (await pollOnce()) await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      } while (again);
      announcer.textContent = text.checked;
    } catch {
      // offline for a moment: the next file sent starts polling again
    } finally {
      polling = false;
    }
  };

  // The page's Continue (a submit button of the hidden plain form): files chosen but not sent are
  // sent first, then the page goes on; a file that could not be sent stops it once, with the reason
  // next to the widget, and a second press goes on without it.
  let warned = false;
  for (const button of document.querySelectorAll(`[data-continue][form="${CSS.escape(form.id)}"]`)) {
    button.addEventListener("click", async (event) => {
      const waiting = uppy.getFiles().filter((file) => !file.progress.uploadComplete && !file.error);
      const failed = uppy.getFiles().filter((file) => file.error);
      if (waiting.length === 0 && ((failed.length === 0 && refused.size === 0) || warned)) return; // the plain form goes on
      event.preventDefault();
      if (waiting.length > 0) {
        announcer.textContent = text.sendingFirst;
        button.disabled = true;
        try {
          await uppy.upload();
        } finally {
          button.disabled = false;
        }
      }
      if (uppy.getFiles().some((file) => file.error) || refused.size > 0) {
        warned = true;
        problems.querySelector(".field-error")?.append(` ${text.continueWithout}`);
        problems.tabIndex = -1;
        problems.focus();
        return;
      }
      form.requestSubmit(button);
    });
  }

  uppy.on("upload-success", () => {
    announcer.textContent = text.checking;
    poll();
  });
  whenLoaded(() => {
    stopMetaRefresh();
    if (document.querySelector(".tag--upload-received, .tag--upload-scanning")) poll();
  });
  widget.uppy = uppy; // for the browser tests
}

function whenLoaded(callback) {
  if (document.readyState === "complete") callback();
  else window.addEventListener("load", callback, { once: true });
}

function stopMetaRefresh() {
  // While files are being checked the page reloads itself every few seconds, for browsers without
  // JavaScript (templates/uploads/files.html). Here the list updates in place, and a reload would
  // cut off the uploads. Removing the <meta> does not cancel the reload it scheduled. stop() does,
  // once the page has loaded (Chromium, checked by tests/browser/test_upload_widget.py; Firefox);
  // the navigation started just before it replaces the scheduled reload in browsers that keep only
  // one, and stop() cancels it too. Nothing else is loading by then for stop() to cut off.
  const refresh = document.querySelector('meta[http-equiv="refresh" i]');
  if (!refresh) return;
  refresh.remove();
  window.location.assign(window.location.pathname + window.location.search);
  window.stop();
}

// Uppy needs a current browser (AbortSignal.any: Chrome 116, Safari 17.4, Firefox 124);
// older ones keep the plain form.
if (typeof AbortSignal !== "undefined" && typeof AbortSignal.any === "function") {
  document.querySelectorAll("[data-upload-form]").forEach(enhance);
}
