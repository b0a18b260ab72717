// slips: being written (issue 20)
"use strict";
async function slipsTab() { $("tw-slips").replaceChildren(el("p", { class: "empty" }, "準備中です。")); }
