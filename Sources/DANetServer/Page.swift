/// The page at `/`: pick or drop a photo, choose a model, see the classes over the photo with an
/// opacity slider, a legend of the classes present with their shares, and the time taken. One file
/// with its styles and script inline: nothing is fetched from anywhere but this server.
enum Page {
    static let html = #"""
    <!doctype html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>danet</title>
    <style>
      :root { font-family: system-ui, sans-serif; color: #1d1d1f; background: #f5f5f7; }
      body { margin: 0 auto; max-width: 980px; padding: 12px; }
      h1 { font-size: 1.3rem; margin: 4px 0 12px; }
      .bar { display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: center; margin-bottom: 12px; }
      label { font-size: .9rem; }
      select, input[type=password] { font-size: 1rem; padding: 4px; }
      #drop { display: block; border: 2px dashed #999; border-radius: 8px; padding: 18px; text-align: center; background: #fff; cursor: pointer; }
      #drop.over { border-color: #0a64d8; background: #eef5ff; }
      #result { display: none; margin-top: 12px; }
      #stack { position: relative; width: 100%; }
      #stack img { display: block; width: 100%; height: auto; }
      #mask { position: absolute; left: 0; top: 0; width: 100%; height: 100%; image-rendering: pixelated; }
      #legend { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: 6px 14px; }
      #legend li { display: flex; align-items: center; gap: 6px; font-size: .95rem; }
      .swatch { width: 14px; height: 14px; border-radius: 3px; border: 1px solid #0003; }
      #status { font-size: .9rem; color: #555; min-height: 1.2em; }
      #status.error { color: #b00020; }
      #tokenRow { display: none; }
    </style>
    </head>
    <body>
    <h1>danet &mdash; scene segmentation</h1>
    <div class="bar">
      <label>Model <select id="model"></select></label>
      <label>Opacity <input id="opacity" type="range" min="0" max="100" value="50"></label>
      <span id="tokenRow"><label>Token <input id="token" type="password" autocomplete="off"></label></span>
    </div>
    <label id="drop">Drop a PNG or JPEG here, or tap to choose one
      <input id="file" type="file" accept="image/png,image/jpeg" hidden>
    </label>
    <p id="status"></p>
    <div id="result">
      <div id="stack"><img id="photo" alt="the photo"><img id="mask" alt="the classes"></div>
      <ul id="legend"></ul>
    </div>
    <script>
    "use strict";
    const $ = (id) => document.getElementById(id);
    let lastFile = null;

    function headers() {
      const token = sessionStorage.getItem("danet-token");
      return token ? { "Authorization": "Bearer " + token } : {};
    }

    function say(text, isError) {
      $("status").textContent = text;
      $("status").className = isError ? "error" : "";
    }

    async function call(url, options) {
      const response = await fetch(url, Object.assign({ headers: headers() }, options));
      if (response.status === 401) {
        $("tokenRow").style.display = "inline";
        throw new Error("this server wants a token: enter it above, then choose the photo again");
      }
      if (!response.ok) {
        let message = response.status + " " + response.statusText;
        try { message = (await response.json()).error || message; } catch (e) {}
        throw new Error(message);
      }
      return response.json();
    }

    async function loadModels() {
      try {
        const list = await call("/v1/models");
        $("model").replaceChildren(...list.models.map((m) => new Option(m.name + " (" + m.dataset + ")", m.name)));
        say("Ready: " + list.models.length + " model" + (list.models.length === 1 ? "" : "s") + ".");
      } catch (error) {
        say(error.message, true);
      }
    }

    async function segment(file) {
      lastFile = file;
      say("Segmenting " + file.name + "\u2026");
      const started = performance.now();
      try {
        const model = encodeURIComponent($("model").value);
        const answer = await call("/v1/segment?model=" + model + "&output=json&mask=color", { method: "POST", body: file });
        const total = performance.now() - started;
        $("photo").src = URL.createObjectURL(file);
        $("mask").src = "data:image/png;base64," + answer.color_png;
        $("legend").replaceChildren(...answer.classes.map((c) => {
          const item = document.createElement("li");
          const swatch = document.createElement("span");
          swatch.className = "swatch";
          swatch.style.background = c.color;
          const name = document.createElement("span");
          name.className = "name";
          name.textContent = c.name;
          const share = document.createElement("span");
          share.textContent = (100 * c.fraction).toFixed(1) + "%";
          item.append(swatch, name, share);
          return item;
        }));
        $("result").style.display = "block";
        say(answer.width + " \u00d7 " + answer.height + ", " + answer.classes.length + " classes: " +
            Math.round(answer.seconds * 1000) + " ms in the model, " + Math.round(total) + " ms in all.");
        document.body.dataset.done = "1";
      } catch (error) {
        say(error.message, true);
      }
    }

    $("opacity").addEventListener("input", () => { $("mask").style.opacity = $("opacity").value / 100; });
    $("mask").style.opacity = 0.5;
    $("file").addEventListener("change", () => { if ($("file").files[0]) segment($("file").files[0]); });
    $("token").addEventListener("change", () => {
      sessionStorage.setItem("danet-token", $("token").value.trim());
      loadModels().then(() => { if (lastFile) segment(lastFile); });
    });
    const drop = $("drop");
    drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
    drop.addEventListener("dragleave", () => drop.classList.remove("over"));
    drop.addEventListener("drop", (e) => {
      e.preventDefault();
      drop.classList.remove("over");
      if (e.dataTransfer.files[0]) segment(e.dataTransfer.files[0]);
    });
    loadModels();
    </script>
    </body>
    </html>
    """#
}
