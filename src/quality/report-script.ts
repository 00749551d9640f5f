/**
 * The report page's own script: the row browser (filters, paging, a row's source text with its
 * values highlighted). Plain ES2020 for any browser, no library, no network; it reads the JSON
 * in `<script id="report-data">` and builds every element with `textContent`, never HTML, so no
 * text from the data can run as markup. Offsets of spans count Unicode code points, so the text
 * is split with `Array.from` (UTF-16 indexes would drift after an emoji).
 */
export const REPORT_SCRIPT = String.raw`(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var rows = data.rows, fields = data.fields, colors = data.colors;
  var PAGE = 50;
  var page = 0, visible = rows, selectedIndex = -1;
  var status = document.getElementById("filter-status");
  var fieldFilter = document.getElementById("filter-field");
  var list = document.getElementById("row-list");
  var pager = document.getElementById("pager-text");
  var prev = document.getElementById("pager-prev");
  var next = document.getElementById("pager-next");
  var detail = document.getElementById("row-detail");

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /** The value at a span's path: "order_items[0].name" and "order_items.0.name" both work. */
  function valueAt(record, path) {
    var value = record;
    var steps = path.split(/[.\[\]]/).filter(function (step) { return step !== ""; });
    for (var i = 0; i < steps.length; i++) {
      if (value === null || typeof value !== "object") return undefined;
      value = value[steps[i]];
    }
    return value;
  }

  function shown(value) {
    if (value === undefined || value === null) return "null";
    return typeof value === "string" ? value : JSON.stringify(value);
  }

  function filled(value) {
    return value !== null && value !== undefined && value !== "" && !(Array.isArray(value) && value.length === 0);
  }

  function hasField(row, field) {
    if ((row.sp || []).some(function (s) { return s[0] === field; })) return true;
    if ((row.ug || []).some(function (u) { return u[0] === field; })) return true;
    return row.ok && filled(valueAt(row.d, fields[field].path.join(".")));
  }

  function matches(row) {
    var field = fieldFilter.value === "" ? -1 : Number(fieldFilter.value);
    if (status.value === "failed" && row.ok) return false;
    if (status.value === "ungrounded") {
      return (row.ug || []).some(function (u) { return field < 0 || u[0] === field; });
    }
    return field < 0 || hasField(row, field);
  }

  function snippet(row) {
    var longest = "";
    for (var column in row.in) if (row.in[column].length > longest.length) longest = row.in[column];
    longest = longest.replace(/\s+/g, " ").trim();
    return longest.length > 110 ? longest.slice(0, 110) + "…" : longest;
  }

  function renderList() {
    list.replaceChildren();
    var first = page * PAGE;
    visible.slice(first, first + PAGE).forEach(function (row) {
      var tr = el("tr", row.i === selectedIndex ? "selected" : "");
      tr.tabIndex = 0;
      tr.dataset.index = String(row.i);
      tr.appendChild(el("td", "num", String(row.i)));
      tr.appendChild(el("td", row.ok ? "ok" : "failed", row.ok ? "ok" : row.e.split(":")[0]));
      var ungrounded = (row.ug || []).length;
      tr.appendChild(el("td", ungrounded ? "warn num" : "num", ungrounded ? "⚠ " + ungrounded : ""));
      tr.appendChild(el("td", "snippet", snippet(row)));
      tr.addEventListener("click", function () { select(row); });
      tr.addEventListener("keydown", function (event) { if (event.key === "Enter") select(row); });
      list.appendChild(tr);
    });
    var last = Math.min(first + PAGE, visible.length);
    pager.textContent = visible.length === 0 ? "No rows match." :
      "Rows " + (first + 1) + "–" + last + " of " + visible.length + (visible.length < rows.length ? " (filtered from " + rows.length + ")" : "");
    prev.disabled = page === 0;
    next.disabled = last >= visible.length;
  }

  /** The text with each span as a coloured mark; overlapping spans after the first are listed, not drawn. */
  function highlighted(text, spans, row) {
    var chars = Array.from(text);
    var out = el("pre", "source");
    var at = 0;
    spans.slice().sort(function (a, b) { return a[3] - b[3] || b[4] - a[4]; }).forEach(function (span) {
      if (span[3] < at || span[4] > chars.length) return;
      out.appendChild(document.createTextNode(chars.slice(at, span[3]).join("")));
      var mark = el("mark", "match-" + span[5], chars.slice(span[3], span[4]).join(""));
      mark.style.background = colors[span[0] % colors.length];
      mark.title = span[1] + " = " + shown(valueAt(row.d, span[1])) + " (" + span[5] + ")";
      mark.dataset.path = span[1];
      out.appendChild(mark);
      at = span[4];
    });
    out.appendChild(document.createTextNode(chars.slice(at).join("")));
    return out;
  }

  function fieldTable(row) {
    var table = el("table", "values");
    var head = el("tr");
    ["field", "value", "in the source"].forEach(function (name) { head.appendChild(el("th", "", name)); });
    table.appendChild(head);
    fields.forEach(function (field, number) {
      var value = valueAt(row.d, field.path.join("."));
      var spans = (row.sp || []).filter(function (s) { return s[0] === number; });
      var missing = (row.ug || []).filter(function (u) { return u[0] === number; });
      var tr = el("tr", missing.length ? "ungrounded" : "");
      var name = el("td", "field");
      var swatch = el("span", "swatch");
      swatch.style.background = colors[number % colors.length];
      name.append(swatch, field.name);
      tr.append(name, el("td", "value", shown(value)));
      var where = missing.length ? "⚠ not found: " + missing.map(function (u) { return u[1]; }).join(", ") :
        spans.length ? "found (" + spans.map(function (s) { return s[5]; }).join(", ") + ")" : "";
      tr.appendChild(el("td", missing.length ? "warn" : "", where));
      table.appendChild(tr);
    });
    return table;
  }

  function select(row) {
    selectedIndex = row.i;
    Array.prototype.forEach.call(list.children, function (tr) { tr.classList.toggle("selected", tr.dataset.index === String(row.i)); });
    detail.replaceChildren();
    detail.appendChild(el("h3", "", "Row " + row.i + (row.a !== undefined ? " · " + row.a + (row.a === 1 ? " model call" : " model calls") : "")));
    if (!row.ok) detail.appendChild(el("p", "error", row.e));
    var ungrounded = row.ug || [];
    if (ungrounded.length) {
      var warning = el("p", "warn ungrounded-list", "⚠ Not found in the source: ");
      warning.appendChild(document.createTextNode(ungrounded.map(function (u) { return u[1] + " = " + shown(valueAt(row.d, u[1])); }).join("; ")));
      detail.appendChild(warning);
    }
    Object.keys(row.in).forEach(function (column) {
      detail.appendChild(el("h4", "", column));
      detail.appendChild(highlighted(row.in[column], (row.sp || []).filter(function (s) { return s[2] === column; }), row));
    });
    if (row.ok) detail.appendChild(fieldTable(row));
  }

  function apply() {
    visible = rows.filter(matches);
    page = 0;
    renderList();
  }

  fields.forEach(function (field, number) {
    var option = el("option", "", field.name);
    option.value = String(number);
    fieldFilter.appendChild(option);
  });
  status.addEventListener("change", apply);
  fieldFilter.addEventListener("change", apply);
  prev.addEventListener("click", function () { page--; renderList(); });
  next.addEventListener("click", function () { page++; renderList(); });
  apply();
})();
`;
