/// The UI's only style sheet and script, served by the gateway itself (no CDN, no build step).
enum Assets {
    static let css = #"""
        :root{--fg:#1b1f24;--muted:#4a5360;--bg:#fff;--line:#c9d1d9;--accent:#0b5cad;--ok:#17663a;--bad:#a1121b;--warn:#7a4d00;--soft:#f3f6f9}
        *{box-sizing:border-box}
        [hidden]{display:none!important}
        body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
        a{color:var(--accent)}
        a:focus,button:focus,input:focus,select:focus,textarea:focus,summary:focus{outline:3px solid #f0a500;outline-offset:2px}
        .skip{position:absolute;left:-999px}.skip:focus{left:8px;top:8px;background:#fff;padding:4px;z-index:9}
        header{background:#0d2b45;color:#fff;padding:.5rem 1rem}
        header nav{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem 1rem}
        header a{color:#fff;text-decoration:none}header a:hover{text-decoration:underline}
        header ul{display:flex;flex-wrap:wrap;gap:.25rem 1rem;list-style:none;margin:0;padding:0}
        header form{margin-left:auto;display:flex;gap:.5rem;align-items:center}
        .brand{font-weight:700;font-size:1.1rem}
        main{max-width:72rem;margin:0 auto;padding:1rem}
        h1{font-size:1.6rem;margin:.5rem 0 1rem}h2{font-size:1.25rem;margin:1.5rem 0 .5rem}
        table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.4rem .5rem;border-bottom:1px solid var(--line);vertical-align:top}
        th{background:var(--soft)}
        .scroll{overflow-x:auto}
        .cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(9rem,1fr));gap:.75rem}
        .card{border:1px solid var(--line);border-radius:6px;padding:.75rem;background:var(--soft)}
        .card b{display:block;font-size:1.5rem}
        label{display:block;font-weight:600;margin:.75rem 0 .25rem}
        .hint{color:var(--muted);font-size:.9rem;margin:.1rem 0}
        input,select,textarea{font:inherit;padding:.45rem;border:1px solid #6b7480;border-radius:4px;width:100%;max-width:40rem;background:#fff;color:var(--fg)}
        input[type=checkbox]{width:auto}
        textarea{min-height:8rem;font-family:ui-monospace,monospace}
        button,.button{font:inherit;display:inline-block;padding:.45rem .9rem;border-radius:4px;border:1px solid var(--accent);background:var(--accent);color:#fff;cursor:pointer;text-decoration:none;margin:.25rem .25rem .25rem 0}
        button.secondary,.button.secondary{background:#fff;color:var(--accent)}
        button.danger{background:var(--bad);border-color:var(--bad)}
        .inline{display:inline}
        .filters{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:flex-end}.filters label{margin:0}.filters>div{min-width:10rem}
        .status{font-weight:600}.s-completed,.s-active{color:var(--ok)}.s-failed,.s-error,.s-timeout,.s-cancelled{color:var(--bad)}.s-in_progress,.s-queued,.s-rendering,.s-pending{color:var(--warn)}
        pre{background:var(--soft);border:1px solid var(--line);padding:.75rem;overflow:auto;max-height:32rem;font-size:.9rem}
        .y-k{color:#0b4f8a;font-weight:600}.y-c{color:#4a5360;font-style:italic}.y-s{color:#1c5e20}.y-v{background:#fff1c2;color:#5c3d00}
        .flash{border-left:4px solid var(--accent);background:var(--soft);padding:.5rem .75rem}
        .error{border-left:4px solid var(--bad);background:#fdecee;padding:.5rem .75rem}
        .secret{border:2px solid var(--warn);padding:.75rem;background:#fff8e6}
        progress{width:100%;height:1.25rem}
        ol.steps{display:flex;flex-wrap:wrap;gap:.25rem .5rem;list-style:none;padding:0}
        ol.steps li{border:1px solid var(--line);border-radius:999px;padding:.1rem .6rem;color:var(--muted)}
        ol.steps li.seen{border-color:var(--ok);color:var(--ok);font-weight:600}
        ol.steps li.failed{border-color:var(--bad);color:var(--bad)}
        .pager{display:flex;gap:1rem;align-items:center;margin:1rem 0}
        dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}dt{font-weight:600}dd{margin:0;overflow-wrap:anywhere}
        .readme{border:1px solid var(--line);padding:0 1rem;border-radius:6px}
        @media (max-width:40rem){header form{margin-left:0}th,td{padding:.3rem}dl{grid-template-columns:1fr}main{padding:.75rem}}
        """#

    static let js = #"""
        // IceShelves web UI: live deployment progress over SSE, small form helpers. No framework.
        (function () {
          "use strict";
          var STEPS = ["request","submit","render","validate","connect","inspect","resume","image","profile","placement","create","start","cloud-init","info","done"];
          var FRACTION = {request:2,submit:5,render:15,accept:18,validate:20,connect:25,inspect:30,resume:30,image:40,profile:45,placement:50,create:60,start:70,"cloud-init":80,info:95,done:100};
          var TERMINAL = {completed:1,failed:1,cancelled:1,timeout:1};

          function text(el, s) { if (el) { el.textContent = s; } }

          function deploymentPage(root) {
            var bar = root.querySelector("progress");
            var statusEl = document.getElementById("dep-status");
            var log = document.getElementById("dep-log");
            var seen = {};
            Array.prototype.forEach.call(log.querySelectorAll("tr[data-seq]"), function (tr) { seen[tr.getAttribute("data-seq")] = true; });
            var best = Number(bar.value) || 0;
            var source = new EventSource(root.getAttribute("data-events"));
            source.addEventListener("deployment", function (msg) {
              var e; try { e = JSON.parse(msg.data); } catch (x) { return; }
              var f = TERMINAL[e.status] ? 100 : (FRACTION[e.step] || 0);
              if (f > best) { best = f; bar.value = best; text(document.getElementById("dep-percent"), best + "%"); }
              text(statusEl, e.status);
              statusEl.className = "status s-" + e.status;
              var li = root.querySelector('li[data-step="' + e.step + '"]');
              if (li) { li.classList.add(e.level === "ERROR" ? "failed" : "seen"); }
              if (!seen[e.seq]) {
                seen[e.seq] = true;
                var tr = document.createElement("tr");
                tr.setAttribute("data-seq", e.seq);
                [e.seq, e.timestamp, e.level, e.step, e.message].forEach(function (v) {
                  var td = document.createElement("td"); td.textContent = String(v); tr.appendChild(td);
                });
                log.appendChild(tr);
              }
              if (TERMINAL[e.status]) {
                source.close();
                document.body.setAttribute("data-final", e.status);
                fetch(root.getAttribute("data-json"), {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (d) {
                  var info = d.instance_info || {};
                  var dl = document.getElementById("dep-info");
                  dl.textContent = "";
                  Object.keys(info).sort().forEach(function (k) {
                    var dt = document.createElement("dt"); dt.textContent = k;
                    var dd = document.createElement("dd"); dd.textContent = info[k];
                    dl.appendChild(dt); dl.appendChild(dd);
                  });
                  Array.prototype.forEach.call(document.querySelectorAll("[data-when]"), function (el) {
                    el.hidden = el.getAttribute("data-when").split(" ").indexOf(e.status) < 0;
                  });
                }).catch(function () {});
              }
            });
          }

          function dashboard(root) {
            var source = new EventSource(root.getAttribute("data-events"));
            source.addEventListener("deployment", function (msg) {
              var e; try { e = JSON.parse(msg.data); } catch (x) { return; }
              var cell = root.querySelector('[data-deployment="' + e.deployment_id + '"] .status');
              if (cell) { cell.textContent = e.status; cell.className = "status s-" + e.status; return; }
              var body = root.querySelector("tbody");
              if (!body || e.seq !== 1) { return; }
              // A new deployment: its row on top (its details from the page's own JSON route).
              fetch("/iceshelves/deployments/" + encodeURIComponent(e.deployment_id) + ".json", {credentials: "same-origin"})
                .then(function (r) { return r.json(); }).then(function (d) {
                  if (root.querySelector('[data-deployment="' + d.id + '"]')) { return; }
                  var tr = document.createElement("tr");
                  tr.setAttribute("data-deployment", d.id);
                  var a = document.createElement("a");
                  a.href = "/iceshelves/deployments/" + encodeURIComponent(d.id);
                  a.textContent = d.instance_name;
                  [a, d.egg_name, d.status, d.created_at].forEach(function (v, i) {
                    var td = document.createElement("td");
                    if (i === 0) { td.appendChild(v); } else { td.textContent = String(v); }
                    if (i === 2) { td.className = "status s-" + v; }
                    tr.appendChild(td);
                  });
                  body.insertBefore(tr, body.firstChild);
                }).catch(function () {});
            });
          }

          document.addEventListener("DOMContentLoaded", function () {
            var live = document.getElementById("dep-live");
            if (live) { deploymentPage(live); }
            var dash = document.getElementById("dash-live");
            if (dash) { dashboard(dash); }
            Array.prototype.forEach.call(document.querySelectorAll("form[data-confirm]"), function (f) {
              f.addEventListener("submit", function (ev) { if (!window.confirm(f.getAttribute("data-confirm"))) { ev.preventDefault(); } });
            });
            Array.prototype.forEach.call(document.querySelectorAll("select[data-autosubmit]"), function (s) {
              s.addEventListener("change", function () { s.form.submit(); });
            });
            var upload = document.getElementById("upload-form");
            if (upload) {
              upload.addEventListener("submit", function (ev) {
                ev.preventDefault();
                var file = document.getElementById("archive").files[0];
                var out = document.getElementById("upload-result");
                if (!file) { text(out, "Choose a .tar.gz file first."); return; }
                fetch(upload.action, {method: "POST", body: file, credentials: "same-origin",
                  headers: {"Content-Type": "application/gzip", "X-CSRF-Token": upload.querySelector("[name=_csrf]").value}})
                  .then(function (r) { return r.json().then(function (d) { return {ok: r.ok, d: d}; }); })
                  .then(function (x) {
                    if (x.ok && x.d.name) { window.location = "/iceshelves/eggs/" + encodeURIComponent(x.d.name); }
                    else { text(out, x.d.error || "The upload failed."); }
                  }).catch(function () { text(out, "The upload failed."); });
              });
            }
          });
        })();
        """#
}
