// Filters the findings table by rule and service, dims what the filter leaves out on the map,
// and highlights a finding's place on the map while the pointer is on its row. The filter is
// kept in the address (#rule=..&service=..) so a filtered view can be linked to.
(function () {
  "use strict";
  var ruleFilter = document.getElementById("rule-filter");
  var serviceFilter = document.getElementById("service-filter");
  var shown = document.getElementById("shown");

  function list(element, name) {
    try {
      return JSON.parse(element.getAttribute(name) || "[]");
    } catch (error) {
      return [];
    }
  }

  function describe(element) {
    return {
      element: element,
      rules: list(element, "data-rules"),
      services: list(element, "data-services"),
      findings: list(element, "data-findings"),
      finding: Number(element.getAttribute("data-finding")),
      node: element.getAttribute("data-node"),
      ends: list(element, "data-ends")
    };
  }

  var rows = Array.prototype.map.call(document.querySelectorAll("#findings tr.finding"), describe);
  var marks = Array.prototype.map.call(document.querySelectorAll("#archmap [data-services]"), describe);

  function matches(item, rule, service) {
    return (!rule || item.rules.indexOf(rule) >= 0) &&
      (!service || item.services.indexOf(service) >= 0);
  }

  function apply() {
    var rule = ruleFilter.value;
    var service = serviceFilter.value;
    var count = 0;
    rows.forEach(function (row) {
      var visible = matches(row, rule, service);
      row.element.hidden = !visible;
      if (visible) {
        count += 1;
      }
    });
    // The ends of an edge the filter keeps stay in view with it.
    var kept = {};
    marks.forEach(function (mark) {
      if (matches(mark, rule, service)) {
        mark.ends.forEach(function (end) { kept[end] = true; });
      }
    });
    marks.forEach(function (mark) {
      var on = matches(mark, rule, service) || (mark.node !== null && kept[mark.node] === true);
      mark.element.classList.toggle("dim", Boolean(rule || service) && !on);
    });
    shown.textContent = count + " of " + rows.length + " findings shown";
    var parts = [];
    if (rule) {
      parts.push("rule=" + encodeURIComponent(rule));
    }
    if (service) {
      parts.push("service=" + encodeURIComponent(service));
    }
    try {
      history.replaceState(null, "", parts.length ? "#" + parts.join("&") : location.pathname);
    } catch (error) {
      // Some browsers refuse to change the address of a local file; the filter still applies.
    }
  }

  function fromAddress() {
    location.hash.replace(/^#/, "").split("&").forEach(function (part) {
      var pair = part.split("=");
      var value;
      try {
        value = decodeURIComponent(pair[1] || "");
      } catch (error) {
        return;
      }
      if (pair[0] === "rule") {
        ruleFilter.value = value;
      } else if (pair[0] === "service") {
        serviceFilter.value = value;
      }
    });
  }

  function focus(row, on) {
    marks.forEach(function (mark) {
      if (mark.findings.indexOf(row.finding) >= 0) {
        mark.element.classList.toggle("focus", on);
      }
    });
  }

  rows.forEach(function (row) {
    row.element.addEventListener("mouseenter", function () { focus(row, true); });
    row.element.addEventListener("mouseleave", function () { focus(row, false); });
  });
  Array.prototype.forEach.call(document.querySelectorAll("#archmap [data-service]"), function (node) {
    function choose() {
      var service = node.getAttribute("data-service");
      serviceFilter.value = serviceFilter.value === service ? "" : service;
      apply();
    }
    node.addEventListener("click", choose);
    node.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        choose();
      }
    });
  });
  ruleFilter.addEventListener("change", apply);
  serviceFilter.addEventListener("change", apply);
  fromAddress();
  apply();
  document.documentElement.setAttribute("data-archlint-map", "ready");
})();
