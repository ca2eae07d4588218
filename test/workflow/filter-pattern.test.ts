// GitHub's filter pattern syntax, with the examples of the "Filter pattern cheat sheet" in the
// GitHub Actions workflow syntax documentation.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { matchesPatterns } from "../../src/workflow/index.js";

type Row = [patterns: string[], matches: string[], doesNotMatch: string[]];

// "Patterns to match branches and tags"
const refs: Row[] = [
  [["feature/*"], ["feature/my-branch", "feature/your-branch"], ["feature/beta-a/my-branch", "feature"]],
  [
    ["feature/**"],
    ["feature/beta-a/my-branch", "feature/your-branch", "feature/mona/the/octocat"],
    ["features/x"],
  ],
  [
    ["main", "releases/mona-the-octocat"],
    ["main", "releases/mona-the-octocat"],
    ["main2", "releases/other"],
  ],
  [["*"], ["main", "releases"], ["releases/v1"]],
  [["**"], ["all/the/branches", "every/tag"], []],
  [["*feature"], ["mona-feature", "feature", "ver-10-feature"], ["feature-x", "a/feature"]],
  [["v2*"], ["v2", "v2.0", "v2.9"], ["v1", "v3.0"]],
  [["v[12].[0-9]+.[0-9]+"], ["v1.10.1", "v2.0.0"], ["v3.0.0", "v1.x.1", "v1.0"]],
];

// "Patterns to match file paths"
const paths: Row[] = [
  [["*"], ["README.md", "server.rb"], ["docs/README.md"]],
  [["*.jsx?"], ["page.js", "page.jsx"], ["page.jsxx", "src/page.js"]],
  [["**"], ["all/the/files.md"], []],
  [["*.js"], ["app.js", "index.js"], ["js/index.js"]],
  [["**.js"], ["index.js", "js/index.js", "src/js/app.js"], ["index.ts"]],
  [["docs/*"], ["docs/README.md", "docs/file.txt"], ["docs/mona/octocat.txt"]],
  [["docs/**"], ["docs/README.md", "docs/mona/octocat.txt"], ["src/docs.md"]],
  [
    ["docs/**/*.md"],
    ["docs/README.md", "docs/mona/hello-world.md", "docs/a/markdown/file.md"],
    ["docs/a.txt"],
  ],
  [["**/docs/**"], ["docs/hello.md", "dir/docs/my-file.txt", "space/docs/plan/space.doc"], ["documents/x"]],
  [["**/README.md"], ["README.md", "js/README.md"], ["README.txt"]],
  [["**/*src/**"], ["a/src/app.js", "my-src/code/js/app.js"], ["source/app.js"]],
  [["**/*-post.md"], ["my-post.md", "path/their-post.md"], ["post.md"]],
  [
    ["**/migrate-*.sql"],
    ["migrate-10909.sql", "db/migrate-v1.0.sql", "db/sept/migrate-v1.sql"],
    ["migrate.sql"],
  ],
  [["*.md", "!README.md"], ["hello.md"], ["README.md", "docs/hello.md"]],
  [["*.md", "!README.md", "README*"], ["hello.md", "README.md", "README.doc"], []],
];

function table(title: string, rows: Row[]): void {
  describe(title, () => {
    for (const [patterns, yes, no] of rows) {
      it(JSON.stringify(patterns), () => {
        for (const name of yes) assert.equal(matchesPatterns(name, patterns), true, `${name} should match`);
        for (const name of no)
          assert.equal(matchesPatterns(name, patterns), false, `${name} should not match`);
      });
    }
  });
}

table("branch and tag patterns (cheat sheet)", refs);
table("file path patterns (cheat sheet)", paths);

describe("pattern details", () => {
  it("escapes special characters with a backslash", () => {
    assert.equal(matchesPatterns("a*b", ["a\\*b"]), true);
    assert.equal(matchesPatterns("axb", ["a\\*b"]), false);
    assert.equal(matchesPatterns("a+b", ["a\\+b"]), true);
  });

  it("lets a later pattern override an earlier negation", () => {
    assert.equal(
      matchesPatterns("releases/beta", ["releases/**", "!releases/**-alpha", "releases/beta"]),
      true,
    );
    assert.equal(matchesPatterns("releases/x-alpha", ["releases/**", "!releases/**-alpha"]), false);
  });

  it("matches nothing with an empty list", () => {
    assert.equal(matchesPatterns("main", []), false);
  });
});
