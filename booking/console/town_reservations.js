// reservations: being written (issue 20)
"use strict";
async function reservationsTab() { $("tw-reservations").replaceChildren(el("p", { class: "empty" }, "準備中です。")); }
