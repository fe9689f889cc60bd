"""What is checked on every main page of the journey: a full-page screenshot under
var/screenshots/<size>-<theme>/, axe-core (from npm, evaluated in the page through the DevTools
protocol, so the page's CSP does not apply and nothing is fetched), horizontal overflow (the
layouts hold down to 360 px), and a keyboard walk (every control reached by Tab, each with a
focus indicator that can be seen)."""

import json
import shutil
from dataclasses import dataclass, field

from tests.browser_fixtures import ROOT

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "var" / "screenshots"
SIZES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 360, "height": 740}}


# Where the focused element shows no outline or ring of its own, the label it sits in may
# (cards built on visually hidden radios); both are looked at.
FOCUS_PROBE = """() => {
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return null;
  const shows = (node) => {
    if (!node) return false;
    const s = getComputedStyle(node);
    return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0)
      || (s.boxShadow && s.boxShadow !== 'none');
  };
  const fresh = !el.hasAttribute('data-kbd-reached');
  el.setAttribute('data-kbd-reached', '');
  const label = el.closest('label, summary');
  const text = (el.innerText || el.value || el.getAttribute('aria-label') || '').trim();
  return {fresh, radio: el.type === 'radio', visible: shows(el) || shows(label),
          key: el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
               + (el.getAttribute('name') ? '[name=' + el.getAttribute('name') + ']' : '')
               + ' "' + text.slice(0, 40) + '"'};
}"""

FOCUSABLES = """(list) => [...document.querySelectorAll(
    'a[href], button:not([disabled]), input:not([disabled]):not([type=hidden]), select, '
    + 'textarea, summary, [tabindex]:not([tabindex="-1"])')]
  .filter(el => {
    if (el.closest('[hidden], [inert], dialog:not([open])')) return false;
    const details = el.closest('details:not([open])');
    if (details && !(el.tagName === 'SUMMARY' && el.parentElement === details)) return false;
    if (el.tabIndex < 0 || el.type === 'radio') return false;  // a radio group: arrow keys
    const s = getComputedStyle(el);
    if (s.visibility === 'hidden' || s.display === 'none') return false;
    const box = el.getBoundingClientRect();
    // A visually hidden checkbox inside a visible label is reachable through it.
    if (box.width === 0 && box.height === 0 && !el.closest('label')) return false;
    return true;
  }).map(el => list ? (el.hasAttribute('data-kbd-reached') ? null : el.outerHTML.slice(0, 120))
                    : 1).filter(Boolean)"""

# The innermost elements that stick out past the right edge of the viewport.
WIDEST = """(viewport) => {
  const out = [];
  for (const el of document.body.querySelectorAll('*')) {
    const box = el.getBoundingClientRect();
    if (box.right <= viewport + 1 || box.width === 0) continue;
    if ([...el.children].some(c => c.getBoundingClientRect().right > viewport + 1)) continue;
    let clipped = false;
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      const o = getComputedStyle(a).overflowX;
      if (o !== 'visible') { clipped = a.getBoundingClientRect().right <= viewport + 1; break; }
    }
    if (clipped) continue;
    out.push(el.tagName.toLowerCase() + (el.className && el.className.baseVal === undefined
      ? '.' + String(el.className).trim().split(/\\s+/).slice(0, 4).join('.') : '')
      + ' (' + Math.round(box.right) + 'px)');
    if (out.length >= 3) break;
  }
  return out;
}"""


@dataclass
class Findings:
    axe: list = field(default_factory=list)        # (combination, page, rule, impact, targets)
    minor: dict = field(default_factory=dict)      # rule -> count, for moderate/minor ones
    overflow: list = field(default_factory=list)   # (combination, page, scrollWidth)
    focus: list = field(default_factory=list)      # (combination, page, problem)
    pages: dict = field(default_factory=dict)      # combination -> [page names]

    def problems(self) -> str:
        lines = [f"axe {impact}: {rule} on {page} ({combo}): {targets}"
                 for combo, page, rule, impact, targets in self.axe]
        lines += [f"horizontal overflow on {page} ({combo}): {width}"
                  for combo, page, width in self.overflow]
        lines += [f"keyboard on {page} ({combo}): {problem}"
                  for combo, page, problem in self.focus]
        return "\n".join(lines)


class PageChecks:
    """Screenshots and checks for one combination of size and theme."""

    def __init__(self, combination: str, axe_source: str, findings: Findings):
        self.combination = combination
        self.axe_source = axe_source
        self.findings = findings
        self.folder = SCREENSHOTS / combination
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.count = 0
        findings.pages.setdefault(combination, [])

    def __call__(self, page, name: str, *, keyboard: bool = False, axe: bool = True):
        page.wait_for_load_state("load")
        page.evaluate("() => document.fonts.ready.then(() => true)")
        self.count += 1
        self.findings.pages[self.combination].append(name)
        page.screenshot(path=str(self.folder / f"{self.count:02d}-{name}.png"), full_page=True,
                        animations="disabled")
        if axe:
            self.run_axe(page, name)
        width = page.evaluate("() => document.documentElement.scrollWidth")
        viewport = page.viewport_size["width"]
        if width > viewport + 1:
            culprits = page.evaluate(WIDEST, viewport)
            self.findings.overflow.append((self.combination, name, f"{width}px: {culprits}"))
        if keyboard:
            self.walk_keyboard(page, name)

    def run_axe(self, page, name: str):
        if not page.evaluate("() => typeof window.axe === 'object'"):
            # Evaluated through the DevTools protocol: the page's CSP (no inline scripts) does
            # not apply, and nothing is fetched from a network.
            page.evaluate(self.axe_source)
        violations = page.evaluate("""async () => {
            const result = await axe.run(document, {resultTypes: ['violations']});
            return result.violations.map(v => ({id: v.id, impact: v.impact,
                targets: v.nodes.slice(0, 5).map(n => n.target.join(' '))}));
        }""")
        for violation in violations:
            if violation["impact"] in ("serious", "critical"):
                self.findings.axe.append((self.combination, name, violation["id"],
                                          violation["impact"], violation["targets"]))
            else:
                self.findings.minor[violation["id"]] = self.findings.minor.get(
                    violation["id"], 0) + 1

    def walk_keyboard(self, page, name: str, limit: int = 250):
        """Tab through the whole page: every focusable element is reached, each with a focus
        indicator that can be seen."""
        # Start from the top of the page, as after loading it.
        page.evaluate("""() => {
            const start = document.createElement('span');
            start.tabIndex = -1;
            start.id = 'kbd-start';
            document.body.prepend(start);
            start.focus();
            window.scrollTo(0, 0);
        }""")
        expected = len(page.evaluate(FOCUSABLES, False))
        reached, previous = 0, None
        for _ in range(min(limit, expected + 40)):
            page.keyboard.press("Tab")
            probe = page.evaluate(FOCUS_PROBE)
            if probe is None:
                break  # left the page
            if not probe["fresh"]:
                if probe["key"] == previous:
                    continue  # inside one control (a date input has a stop per part)
                break  # came round again
            previous = probe["key"]
            reached += 0 if probe["radio"] else 1
            if not probe["visible"]:
                self.findings.focus.append((self.combination, name,
                                            f"no visible focus on {probe['key']}"))
        missed = page.evaluate(FOCUSABLES, True)
        if missed:
            self.findings.focus.append((self.combination, name,
                                        f"not reached by Tab ({reached} of {expected}): "
                                        f"{missed[:3]}"))
        page.evaluate("() => { document.activeElement && document.activeElement.blur();"
                      " document.getElementById('kbd-start').remove();"
                      " document.querySelectorAll('[data-kbd-reached]')"
                      ".forEach(el => el.removeAttribute('data-kbd-reached')); }")


def write_summary(findings: Findings, seconds: dict):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    summary = {
        "pages": findings.pages,
        "axe_serious_or_critical": [
            {"combination": c, "page": p, "rule": r, "impact": i, "targets": t}
            for c, p, r, i, t in findings.axe],
        "axe_moderate_or_minor": findings.minor,
        "overflow": findings.overflow,
        "keyboard": findings.focus,
        "seconds": seconds,
    }
    (SCREENSHOTS / "summary.json").write_text(json.dumps(summary, indent=2))
