// What every view needs of the page itself: where we are mounted, and its elements.
export const BASE = document.body.dataset.base || "";
export const $ = (id) => document.getElementById(id);
