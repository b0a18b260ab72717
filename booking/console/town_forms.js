// forms: being written (issue 20)
"use strict";
async function formsTab() { $("tw-forms").replaceChildren(el("p", { class: "empty" }, "準備中です。")); }
