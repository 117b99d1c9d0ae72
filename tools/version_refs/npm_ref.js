// Runs npm's own `semver` over a corpus: node npm_ref.js CORPUS.json FORMAT > FIXTURE.json
// FORMAT npm: semver's parse (strict), compare, prerelease, validRange, satisfies (both prerelease modes).
// FORMAT swift: the same SemVer 2.0 precedence, for strict SemVer versions only (no "v"/"=" prefix,
// no surrounding blanks), which is what SwiftPM's Version accepts.
const fs = require("fs");
const semver = require("semver");
const [corpusPath, format] = process.argv.slice(2);
const corpus = JSON.parse(fs.readFileSync(corpusPath, "utf8"));
const versions = corpus.versions;
const parsed = versions.map((v) => {
  const p = semver.parse(v, { loose: false });
  if (p === null) return null;
  if (format === "swift" && (p.raw !== v || !/^[0-9]/.test(v))) return null;
  return p;
});
const sign = (n) => (n < 0 ? "-" : n > 0 ? "+" : "0");
const out = {
  format,
  reference: `npm semver ${require("semver/package.json").version}`,
  versions,
  valid: parsed.map((p) => (p ? "1" : "0")).join(""),
  prerelease: parsed.map((p) => (p ? (p.prerelease.length ? "1" : "0") : "-")).join(""),
  order: parsed.map((a) => parsed.map((b) => (a && b ? sign(semver.compare(a, b)) : "?")).join("")),
  ranges: (corpus.ranges || []).map((r) => {
    const valid = semver.validRange(r) !== null;
    const m = (opts) => versions.map((v, i) => (parsed[i] && valid && semver.satisfies(v, r, opts) ? "1" : "0")).join("");
    return { range: r, valid, normalized: valid ? semver.validRange(r) : null,
             matches: m({}), matches_pre: m({ includePrerelease: true }) };
  }),
};
process.stdout.write(JSON.stringify(out, null, 1) + "\n");
