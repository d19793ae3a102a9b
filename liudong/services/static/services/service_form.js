// Service-record form: show the contraceptive-method fields only for a contraceptive
// supply (a static file, so the page's CSP allows it; without it they always show).
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("form.service-form").forEach(function (form) {
    var type = form.querySelector("select[name=service_type]");
    var blocks = form.querySelectorAll("[data-shows-for]");
    if (!type || !blocks.length) return;
    function update() {
      blocks.forEach(function (block) {
        var wanted = block.getAttribute("data-shows-for") === type.value;
        var hasValue = Array.prototype.some.call(
          block.querySelectorAll("select, input"),
          function (el) { return el.value; }
        );
        block.hidden = !wanted && !hasValue;
      });
    }
    type.addEventListener("change", update);
    update();
  });
});
