# ruff: noqa: E501  (the HTML template below reads better with long lines)
"""The results report as one self-contained HTML file (no scripts, no external files).

Every chart is an inline SVG bar chart with a short text summary as its
accessible name, followed by a table with the same numbers (the text
equivalent). Hidden cells read "skjult" with the reason in the method note.
Colours meet WCAG AA contrast on white; the page reflows down to 320 px.
"""

from __future__ import annotations

from datetime import date
from html import escape

from jinja2 import Environment, select_autoescape
from markupsafe import Markup

from mailbot.report.build import Report
from mailbot.results import QuestionResult

BAR = "#1d4f91"  # 8.6:1 on white
INK = "#1a1a1a"
MUTED = "#4a4a4a"  # 8.9:1 on white

_TEMPLATE = """<!doctype html>
<html lang="{{ lang }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Resultater: {{ survey.title }}</title>
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; color: """ + INK + """;
       background: #fff; margin: 0; line-height: 1.5; }
main { max-width: 46rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.6rem; line-height: 1.25; }
h2 { font-size: 1.25rem; margin-top: 2.2rem; border-top: 1px solid #c8c8c8; padding-top: 1rem; }
h3 { font-size: 1.05rem; }
.lead { font-size: 1.15rem; }
.muted { color: """ + MUTED + """; }
figure { margin: 0.5rem 0; }
svg { display: block; max-width: 40rem; }
@media (max-width: 30rem) { th, td { padding: 0.25rem 0.3rem; } table { font-size: 0.9rem; } }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; min-width: 60%; }
caption { text-align: left; font-weight: 600; padding-bottom: 0.25rem; }
th, td { border-bottom: 1px solid #c8c8c8; padding: 0.3rem 0.6rem; text-align: left; vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
blockquote { border-left: 4px solid """ + BAR + """; margin: 0.5rem 0; padding: 0.25rem 0.75rem; }
</style>
</head>
<body>
<main>
<h1>{{ survey.title }}</h1>
<p class="lead">{{ r.answered }} av {{ r.invited }} inviterte i innbyggerpanelet svarte: svarprosent {{ pct(100 * r.rate) }}.</p>
<p class="muted">{{ survey.opens.strftime('%d.%m.%Y') }}–{{ survey.closes.strftime('%d.%m.%Y') }}.
Rapporten er laget {{ today.strftime('%d.%m.%Y') }}.
{% if r.weighted %}Tallene vises både uvektet og vektet etter befolkningen; se <a href="#metode">metode</a>.{% endif %}</p>

{% for qr in r.questions %}
<section aria-labelledby="q-{{ qr.question.id }}">
<h2 id="q-{{ qr.question.id }}">{{ qr.question.number }}. {{ qr.question.text }}</h2>
{% if qr.suppressed %}
<p>Færre enn {{ r.min_group_size }} svarte på dette spørsmålet, så svarene vises ikke.</p>
{% elif qr.question.type == 'text' %}
<p>{{ qr.answered }} skrev et svar med egne ord. Fritekstsvar vises ikke i rapporten{% if qr.quotes %}; her er noen utvalgte sitater{% endif %}.</p>
{% for quote in qr.quotes %}<blockquote><p>{{ quote }}</p></blockquote>{% endfor %}
{% else %}
<p>{{ qr.answered }} svarte{% if qr.question.type == 'multi' %} (flere svar mulig, så prosentene blir til sammen mer enn 100){% endif %}.
{% if qr.mean is not none %}Gjennomsnitt {{ num(qr.mean, 2) }}{% if qr.weighted_mean is not none %} (vektet {{ num(qr.weighted_mean, 2) }}){% endif %}, median {{ num(qr.median, 1) }}
på en skala fra {{ qr.question.min }}{% if qr.question.min_label %} ({{ qr.question.min_label }}){% endif %}
til {{ qr.question.max }}{% if qr.question.max_label %} ({{ qr.question.max_label }}){% endif %}.{% endif %}</p>
{% if qr.question.type == 'scale' and qr.distribution_suppressed %}
<p>Fordelingen på skalaen vises ikke, fordi minst én verdi ble valgt av færre enn {{ r.min_group_size }}.</p>
{% else %}
{% if qr.options | selectattr('suppressed', 'equalto', false) | list %}
<figure>{{ chart(qr) }}</figure>
{% endif %}
<div class="table-wrap"><table>
<caption>Svar på spørsmål {{ qr.question.number }}</caption>
<thead><tr><th scope="col">Svar</th><th scope="col" class="num">Antall</th><th scope="col" class="num">Prosent</th>
{% if r.weighted %}<th scope="col" class="num">Vektet prosent</th>{% endif %}</tr></thead>
<tbody>
{% for o in qr.options %}<tr><th scope="row">{{ o.label }}</th>
{% if o.suppressed %}<td class="num">skjult</td><td class="num">skjult</td>{% if r.weighted %}<td class="num">skjult</td>{% endif %}
{% else %}<td class="num">{{ o.count }}</td><td class="num">{{ pct(o.percent) }}</td>{% if r.weighted %}<td class="num">{{ pct(o.weighted_percent) }}</td>{% endif %}{% endif %}</tr>
{% endfor %}</tbody></table></div>
{% endif %}
{% endif %}
</section>
{% endfor %}

<section aria-labelledby="hvem">
<h2 id="hvem">Hvem svarte?</h2>
<p>Svarene sammenlignet med dem som ble invitert{% if report.population_source is not none %} og med befolkningen i kommunen ({{ report.population_source or 'population.toml' }}){% endif %}.
Prosentene er av dem med kjent verdi.</p>
{% for t in report.segments %}
{% set pop = t.rows | selectattr('population_share', 'ne', none) | list | length > 0 %}
{% set wt = r.weighted and t.rows | selectattr('weighted_share', 'ne', none) | list | length > 0 %}
<div class="table-wrap"><table>
<caption>{{ t.label }}</caption>
<thead><tr><th scope="col">{{ t.label }}</th>
{% if pop %}<th scope="col" class="num">Befolkningen</th>{% endif %}
<th scope="col" class="num">Invitert</th><th scope="col" class="num">Svarte</th>
{% if t.partition %}<th scope="col" class="num">Andel av svarene</th>{% endif %}
{% if wt %}<th scope="col" class="num">Vektet andel</th>{% endif %}
<th scope="col" class="num">Svarprosent</th></tr></thead>
<tbody>
{% for row in t.rows %}<tr><th scope="row">{{ row.category }}</th>
{% if pop %}<td class="num">{{ share(row.population_share) }}</td>{% endif %}
<td class="num">{{ count(row.invited) }}</td><td class="num">{{ count(row.answered) }}</td>
{% if t.partition %}<td class="num">{{ share(row.answered_share) }}</td>{% endif %}
{% if wt %}<td class="num">{{ share(row.weighted_share) }}</td>{% endif %}
<td class="num">{{ share(row.rate) }}</td></tr>
{% endfor %}</tbody></table></div>
{% endfor %}
</section>

<section aria-labelledby="kanal">
<h2 id="kanal">Hvordan og når de svarte</h2>
{% for caption, rows in [('Svarte ved å', report.sources), ('Svarte etter', report.after_steps)] %}
<div class="table-wrap"><table>
<caption>{{ caption }}</caption>
<thead><tr><th scope="col">{{ caption }}</th><th scope="col" class="num">Antall</th><th scope="col" class="num">Andel</th></tr></thead>
<tbody>{% for x in rows %}<tr><th scope="row">{{ label(x.label) }}</th><td class="num">{{ count(x.count) }}</td><td class="num">{{ share(x.share) }}</td></tr>{% endfor %}</tbody>
</table></div>
{% endfor %}
</section>

<section aria-labelledby="metode">
<h2 id="metode">Metode</h2>
<p>Undersøkelsen ble sendt på e-post til {{ r.invited }} medlemmer av innbyggerpanelet, og {{ r.answered }} svarte
(svarprosent {{ pct(100 * r.rate) }}). Prosenter er regnet av dem som svarte på hvert spørsmål.</p>
<p>Personvern: ingen gruppe med færre enn {{ r.min_group_size }} svar vises. Der én liten gruppe skjules,
skjules også minst én annen i samme oversikt, slik at den ikke kan regnes ut fra totalen. Vises ikke fordelingen
på en skala, er minst én verdi valgt av færre enn {{ r.min_group_size }}. Fritekstsvar vises bare når kommunen har valgt dem ut.</p>
{% if report.weighting %}
<p>Vekting: svarene er vektet etter {{ report.weighting.dimensions | map('dim') | join(', ') }} i befolkningen
({{ report.weighting.source or 'population.toml' }}) med raking (iterativ proporsjonal tilpasning),
{{ report.weighting.iterations }} runder{% if not report.weighting.converged %}, uten å nå full tilpasning{% endif %}.
Vektene ligger mellom {{ num(report.weighting.min_weight, 2) }} og {{ num(report.weighting.max_weight, 2) }}.
Uvektede tall står først; vektede tall er merket «vektet».</p>
{% elif report.weighting_problem %}
<p>Svarene er ikke vektet: {{ report.weighting_problem }}.</p>
{% else %}
<p>Svarene er ikke vektet.</p>
{% endif %}
</section>
</main>
</body>
</html>
"""

_LABELS = {"reply": "svare på e-posten", "click": "klikke på en lenke", "staff": "registrert av kommunen",
           "invitation": "invitasjonen", "ukjent": "ukjent"}
_DIMS = {"age_band": "aldersgruppe", "gender": "kjønn", "district": "bydel"}


def num(x: float | None, decimals: int = 1) -> str:
    return "" if x is None else f"{x:.{decimals}f}".replace(".", ",").replace("-", "−")


def pct(x: float | None) -> str:
    return "" if x is None else f"{num(x, 0 if abs(x - round(x)) < 0.05 else 1)}\u00a0%"


def share(x: float | None) -> str:
    return "–" if x is None else pct(100 * x)


def count(x: int | None) -> str:
    return "skjult" if x is None else str(x)


def label(x: str) -> str:
    if x.startswith("reminder-"):
        return f"påminnelse {x.removeprefix('reminder-')}"
    return _LABELS.get(x, x)


def bar_chart(qr: QuestionResult) -> str:
    """Horizontal bars, one per shown option, label above the bar so long labels fit at 320 px.

    Bar lengths are percentages of the chart's width and text sizes are pixels, so the
    chart reflows with the page instead of shrinking its text on a phone."""
    shown = [o for o in qr.options if not o.suppressed]
    row = 46
    height = row * len(shown) + 4
    summary = ", ".join(f"{o.label} {pct(o.percent)}" for o in shown)
    hidden = len(qr.options) - len(shown)
    if hidden:
        summary += f"; {hidden} svar skjult"
    title_id = f"chart-{qr.question.id}"
    parts = [f'<svg width="100%" height="{height}" role="img" aria-labelledby="{title_id}" '
             f'xmlns="http://www.w3.org/2000/svg">',
             f'<title id="{title_id}">Stolpediagram, spørsmål {qr.question.number}: {escape(summary)}</title>']
    for i, o in enumerate(shown):
        y = i * row
        bar = 78 * o.percent / 100  # % of the width; the rest holds the figure
        parts.append(f'<text x="0" y="{y + 16}" font-size="15" fill="{INK}">{escape(o.label)}</text>')
        if o.count:
            parts.append(f'<rect x="0" y="{y + 22}" width="{max(bar, 0.5):.2f}%" height="18" fill="{BAR}"/>')
        parts.append(f'<text x="{bar + 1.5:.2f}%" y="{y + 36}" font-size="15" fill="{INK}">'
                     f'{escape(pct(o.percent))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def render_html(report: Report, today: date) -> str:
    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    env.filters["dim"] = lambda d: _DIMS.get(d, d)
    template = env.from_string(_TEMPLATE)
    return template.render(
        report=report, r=report.results, survey=report.survey, today=today, lang=report.survey.language,
        pct=pct, num=num, share=share, count=count, label=label,
        chart=lambda qr: Markup(bar_chart(qr)),
    )
