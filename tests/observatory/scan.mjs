// The MDN HTTP Observatory's scan of one page (node scan.mjs HOST HTTPS_PORT HTTP_PORT PATH
// [HEADER...]), printed as its CLI prints it. Its CLI scans only ports 443 and 80 and the root,
// without credentials; its retriever takes the ports, the path and request headers (a token,
// for a page behind the login) as options. The retrieval, the tests and the grading are the
// package's own; the few lines below that add up the score are those of its
// src/scanner/index.js, which does not pass the options on.
import { retrieve } from "@mdn/mdn-http-observatory/src/retriever/retriever.js";
import { ALL_TESTS, ALGORITHM_VERSION, NUM_TESTS } from "@mdn/mdn-http-observatory/src/constants.js";
import { MINIMUM_SCORE_FOR_EXTRA_CREDIT } from "@mdn/mdn-http-observatory/src/grader/charts.js";
import {
  getGradeForScore,
  getScoreModifier,
} from "@mdn/mdn-http-observatory/src/grader/grader.js";

const [host, httpsPort, httpPort, path, ...extraHeaders] = process.argv.slice(2);
const STANDARD_HEADERS = [
  "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
];

const requests = await retrieve(host, {
  httpsPort,
  httpPort,
  path,
  headers: [...STANDARD_HEADERS, ...extraHeaders],
});
if (!requests.responses.auto) {
  console.log(JSON.stringify({ error: "The site seems to be down." }));
  process.exit(1);
}
const results = ALL_TESTS.map((test) => test(requests));
let testsPassed = 0;
let scoreWithExtraCredit = 100;
let uncurvedScore = 100;
for (const result of results) {
  if (result.result) {
    result.scoreModifier = getScoreModifier(result.result);
    testsPassed += result.pass ? 1 : 0;
    scoreWithExtraCredit += result.scoreModifier;
    if (result.scoreModifier < 0) {
      uncurvedScore += result.scoreModifier;
    }
  }
}
const score =
  uncurvedScore >= MINIMUM_SCORE_FOR_EXTRA_CREDIT ? scoreWithExtraCredit : uncurvedScore;
const final = getGradeForScore(score);
const tests = Object.fromEntries(results.map((result) => [result.constructor.name, result]));
console.log(
  JSON.stringify(
    {
      scan: {
        algorithmVersion: ALGORITHM_VERSION,
        grade: final.grade,
        score: final.score,
        statusCode: requests.responses.auto.status,
        testsFailed: NUM_TESTS - testsPassed,
        testsPassed,
        testsQuantity: NUM_TESTS,
        responseHeaders: Object.fromEntries(Object.entries(requests.responses.auto.headers)),
      },
      tests,
    },
    null,
    2
  )
);
