/*
 * Lists the inbox reads once per page: the assistant's intents and the canned
 * responses. A failed read is forgotten, so the next use asks again.
 */

import { api } from "./api.js";

const cache = {};

function cached(key, load, pick) {
  if (!cache[key]) {
    cache[key] = load().then(pick, (error) => {
      delete cache[key];
      throw error;
    });
  }
  return cache[key];
}

/** The intent names an agent can flag a bot turn with. */
export const intentNames = () =>
  cached("intents", api.intents, (answer) =>
    (Array.isArray(answer) ? answer : answer.intents || []).map((i) => (typeof i === "string" ? i : i.name)));

/** The canned responses the composer offers. */
export const cannedResponses = () =>
  cached("canned", api.cannedResponses, (answer) => answer.canned_responses || []);
