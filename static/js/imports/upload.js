// The import page: sends the chosen files to the JSON API with upload progress (XMLHttpRequest reports
// upload progress; fetch does not, everywhere), then shows the import job's own progress by handing its
// row to HTMX, which polls it until the job ends.

const form = document.getElementById("import-form");
const status = document.getElementById("upload-status");
const bar = document.getElementById("upload-progress");
const label = document.getElementById("upload-label");
const count = document.getElementById("upload-count");
const error = document.getElementById("import-error");
const jobs = document.getElementById("import-jobs");
const submit = document.getElementById("import-submit");
const csrf = document.body.dataset.csrf;

function mib(bytes) { return (bytes / 1048576).toFixed(1) + " MiB"; }

function showError(text) {
  error.textContent = text; // text, never markup: a file name is the user's
  error.hidden = false;
}

function followJob(projectId, job) {
  const row = document.createElement("li");
  row.id = `job-${job.id}`;
  row.className = "job";
  row.textContent = "Import queued…";
  row.setAttribute("hx-get", `/projects/${projectId}/jobs/${job.id}`);
  row.setAttribute("hx-trigger", "load");
  row.setAttribute("hx-swap", "outerHTML");
  jobs.prepend(row);
  if (window.htmx) window.htmx.process(row);
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  error.hidden = true;
  const data = new FormData(form);
  // Empty optional inputs would arrive as empty files: leave them out.
  for (const name of ["masks", "annotations"]) {
    const kept = data.getAll(name).filter((f) => f instanceof File && f.size > 0 && f.name);
    data.delete(name);
    for (const f of kept) data.append(name, f);
  }
  const xhr = new XMLHttpRequest();
  xhr.open("POST", form.action);
  xhr.setRequestHeader("X-CSRF-Token", csrf);
  xhr.setRequestHeader("Accept", "application/json");
  xhr.responseType = "json";
  xhr.upload.addEventListener("progress", (e) => {
    if (!e.lengthComputable) return;
    bar.max = e.total;
    bar.value = e.loaded;
    count.textContent = `${mib(e.loaded)} of ${mib(e.total)} (${Math.round((100 * e.loaded) / e.total)}%)`;
  });
  xhr.upload.addEventListener("load", () => { label.textContent = "Uploaded; starting the import…"; });
  xhr.addEventListener("load", () => {
    submit.disabled = false;
    const body = xhr.response || {};
    if (xhr.status === 202) {
      label.textContent = "Uploaded.";
      form.reset();
      followJob(form.dataset.project, body);
    } else {
      label.textContent = "Upload refused.";
      showError(typeof body.detail === "string" ? body.detail
        : `The server answered ${xhr.status}${body.detail ? ": " + JSON.stringify(body.detail) : ""}.`);
    }
  });
  xhr.addEventListener("error", () => {
    submit.disabled = false;
    label.textContent = "Upload failed.";
    showError("The upload did not reach the server (connection lost?). Nothing was imported; try again.");
  });
  status.hidden = false;
  label.textContent = "Uploading…";
  bar.value = 0;
  count.textContent = "";
  submit.disabled = true;
  xhr.send(data);
});
