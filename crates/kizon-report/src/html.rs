//! The report as one self-contained HTML page: inline CSS, inline SVG, no scripts and nothing
//! loaded from elsewhere. Every string from the document is escaped on the way out.

use std::fmt::Write;

use crate::doc::{Block, Cell, Doc, Field, FlowBox, FlowView, Style, Table};
use crate::svg::xml_escape as esc;

const CSS: &str = r#"
:root { --ink: #191919; --muted: #5f5f5f; --rule: #aaaaaa; --accent: #1f4e9c; --pass: #1b6e2a; --fail: #b3261e; }
* { box-sizing: border-box; }
body { font-family: "Noto Sans JP", "Hiragino Sans", "Yu Gothic", Meiryo, sans-serif; color: var(--ink);
  font-size: 15px; line-height: 1.7; max-width: 60em; margin: 2em auto; padding: 0 1.5em; }
:lang(ja) body, body:lang(ja) { line-break: strict; word-break: normal; }
h1.kind { font-size: 1.05em; color: var(--accent); margin: 0; }
p.title { font-size: 1.7em; font-weight: bold; margin: 0.2em 0 0.4em; line-height: 1.35; border-bottom: 2px solid var(--accent); padding-bottom: 0.3em; }
h2 { font-size: 1.3em; color: var(--accent); border-bottom: 1px solid var(--accent); margin-top: 2.2em; }
h3 { font-size: 1.05em; margin-top: 1.6em; }
h4 { font-size: 1em; margin: 1.3em 0 0.4em; }
tr.cont td { border-top: none; padding-top: 0; }
dl.fields { display: grid; grid-template-columns: minmax(8em, 14em) 1fr; gap: 0.35em 1em; margin: 1em 0; }
dl.fields dt { color: var(--muted); }
dl.fields dd { margin: 0; overflow-wrap: anywhere; }
.mono { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 0.85em; overflow-wrap: anywhere; }
.strong { font-weight: bold; }
.pass { color: var(--pass); font-weight: bold; }
.fail { color: var(--fail); font-weight: bold; }
.sub { display: block; font-size: 0.82em; color: var(--muted); }
.note { background: #f4f4f4; padding: 0.6em 0.8em; border-radius: 3px; font-size: 0.92em; }
.hashnote { color: var(--muted); font-size: 0.85em; }
nav ul { list-style: none; padding-left: 0; }
figure { margin: 1.2em 0; }
figcaption { font-weight: bold; font-size: 0.9em; margin-top: 0.5em; }
table { border-collapse: collapse; width: 100%; font-size: 0.9em; margin: 0.4em 0 1.2em; }
table.auto { width: auto; min-width: 50%; }
table caption { caption-side: top; text-align: left; font-weight: bold; font-size: 0.95em; padding-bottom: 0.4em; }
th, td { padding: 0.3em 0.45em; border-top: 1px solid #d0d0d0; vertical-align: middle; }
thead th { background: #f0f0f0; border-top: 2px solid var(--ink); border-bottom: 1px solid var(--ink); text-align: left; }
tbody tr:last-child td { border-bottom: 2px solid var(--ink); }
td.right, th.right { text-align: right; } td.center, th.center { text-align: center; }
.roc svg { display: block; margin: 0 auto; width: 100%; max-width: 26em; height: auto; }
.flow { display: grid; grid-template-columns: 42% 8% 50%; margin: 1em 0 0.5em; font-size: 0.9em; }
.fb { border: 1.5px solid #3c3c3c; border-radius: 3px; padding: 0.45em 0.6em; background: #fff; }
.fb.main { background: #f3f6fb; }
.fb .head { display: flex; justify-content: space-between; gap: 0.8em; font-weight: bold; }
.fb ul { list-style: none; margin: 0.3em 0 0; padding: 0; font-size: 0.9em; }
.fb li { display: flex; justify-content: space-between; gap: 0.8em; }
.fb li::before { content: "• "; }
.fb li span:first-child { flex: 1; }
.side { align-self: center; margin: 0.8em 0; }
.conn { position: relative; min-height: 2.2em; }
.conn i { position: absolute; display: block; }
.conn i.v { border-left: 1.5px solid var(--ink); width: 0; }
.conn i.h { border-top: 1.5px solid var(--ink); height: 0; }
.conn i.arrow-down::after { content: ""; position: absolute; left: -5.5px; bottom: -1px; border: 5px solid transparent; border-top: 7px solid var(--ink); border-bottom: 0; }
.conn i.arrow-right::after { content: ""; position: absolute; right: -1px; top: -5.5px; border: 5px solid transparent; border-left: 7px solid var(--ink); border-right: 0; }
@media print { body { max-width: none; margin: 0; font-size: 10pt; } h2 { break-after: avoid; } table, .flow, figure { break-inside: avoid; } }
@page { size: A4; margin: 20mm; }
"#;

fn class(style: Style) -> &'static str {
    match style {
        Style::Plain => "",
        Style::Strong => "strong",
        Style::Mono => "mono",
        Style::Pass => "pass",
        Style::Fail => "fail",
    }
}

fn styled(out: &mut String, text: &str, style: Style) {
    match class(style) {
        "" => out.push_str(&esc(text)),
        c => {
            let _ = write!(out, r#"<span class="{c}">{}</span>"#, esc(text));
        }
    }
}

fn fields(out: &mut String, rows: &[Field]) {
    out.push_str(r#"<dl class="fields">"#);
    for r in rows {
        let _ = write!(out, "<dt>{}</dt><dd>", esc(&r.key));
        styled(out, &r.value, r.style);
        out.push_str("</dd>");
    }
    out.push_str("</dl>\n");
}

fn cell(out: &mut String, tag: &str, align: &str, c: &Cell) {
    let _ = write!(out, "<{tag}");
    if !align.is_empty() && align != "left" {
        let _ = write!(out, r#" class="{align}""#);
    }
    if c.colspan > 1 {
        let _ = write!(out, r#" colspan="{}""#, c.colspan);
    }
    out.push('>');
    styled(out, &c.text, c.style);
    if let Some(sub) = &c.sub {
        let _ = write!(out, r#"<span class="sub">{}</span>"#, esc(sub));
    }
    let _ = write!(out, "</{tag}>");
}

fn table(out: &mut String, t: &Table) {
    let fr_sum: u32 = t.columns.iter().map(|c| c.fr).sum();
    if fr_sum == 0 {
        // Only content-sized columns (a 2×2 table): as narrow as its content.
        out.push_str(r#"<table class="auto">"#);
    } else {
        out.push_str("<table>");
    }
    if let Some(caption) = &t.caption {
        let _ = write!(out, "<caption>{}</caption>", esc(caption));
    }
    // Relative widths as in the PDF; content-sized columns keep about an eighth each.
    let autos = t.columns.iter().filter(|c| c.fr == 0).count() as u32;
    let share = 100u32.saturating_sub(12 * autos).max(40);
    if fr_sum > 0 {
        out.push_str("<colgroup>");
        for c in &t.columns {
            match (share * c.fr).checked_div(fr_sum) {
                Some(width) if c.fr > 0 => {
                    let _ = write!(out, r#"<col style="width: {width}%">"#);
                }
                _ => out.push_str("<col>"),
            }
        }
        out.push_str("</colgroup>");
    }
    out.push_str("<thead><tr>");
    for c in &t.columns {
        let align = if c.align == "left" { "" } else { c.align };
        if align.is_empty() {
            let _ = write!(out, "<th>{}</th>", esc(&c.header));
        } else {
            let _ = write!(out, r#"<th class="{align}">{}</th>"#, esc(&c.header));
        }
    }
    out.push_str("</tr></thead><tbody>");
    for (y, row) in t.rows.iter().enumerate() {
        if t.group > 1 && y % t.group as usize != 0 {
            out.push_str(r#"<tr class="cont">"#);
        } else {
            out.push_str("<tr>");
        }
        let mut x = 0;
        for c in row {
            let align = t.columns.get(x).map(|c| c.align).unwrap_or("left");
            let align = if c.colspan > 1 { "left" } else { align };
            cell(out, "td", align, c);
            x += c.colspan as usize;
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>\n");
}

fn flow_box(out: &mut String, b: &FlowBox, class: &str) {
    let _ = write!(
        out,
        r#"<div class="fb {class}"><div class="head"><span>{}</span><span>{}</span></div>"#,
        esc(&b.label),
        esc(&b.n)
    );
    if !b.lines.is_empty() {
        out.push_str("<ul>");
        for l in &b.lines {
            let _ = write!(
                out,
                "<li><span>{}</span><span>{}</span></li>",
                esc(&l.label),
                esc(&l.n)
            );
        }
        out.push_str("</ul>");
    }
    out.push_str("</div>");
}

/// The STARD 2015 flow diagram as a CSS grid: main column, connector, side boxes.
fn flow(out: &mut String, f: &FlowView) {
    // Main column centre as a share of the two first columns (42% + 8%).
    const BRANCH: &str = r#"<div class="conn" style="grid-column: 1 / span 2"><i class="v arrow-down" style="left: 42%; top: 0; bottom: 0"></i><i class="h arrow-right" style="left: 42%; right: 0; top: 50%"></i></div>"#;
    out.push_str(r#"<figure><div class="flow">"#);
    flow_box(out, &f.collected, "main");
    out.push_str("<div></div><div></div>");
    out.push_str(BRANCH);
    flow_box(out, &f.excluded, "side");
    flow_box(out, &f.eligible, "main");
    out.push_str("<div></div><div></div>");
    out.push_str(BRANCH);
    flow_box(out, &f.not_analysed, "side");
    flow_box(out, &f.analysed, "main");
    out.push_str("<div></div><div></div>");
    out.push_str(concat!(
        r#"<div class="conn" style="grid-column: 1 / span 3">"#,
        r#"<i class="v" style="left: 21%; top: 0; height: 50%"></i>"#,
        r#"<i class="h" style="left: 21%; width: 54%; top: 50%"></i>"#,
        r#"<i class="v arrow-down" style="left: 21%; top: 50%; bottom: 0"></i>"#,
        r#"<i class="v arrow-down" style="left: 75%; top: 50%; bottom: 0"></i></div>"#
    ));
    flow_box(out, &f.positive, "");
    out.push_str("<div></div>");
    flow_box(out, &f.negative, "");
    let _ = writeln!(
        out,
        "</div><figcaption>{}</figcaption></figure>",
        esc(&f.caption)
    );
}

fn block(out: &mut String, b: &Block) {
    match b {
        Block::Heading { number, text } => {
            let _ = writeln!(out, "<h3>{} {}</h3>", esc(number), esc(text));
        }
        Block::Subheading { text } => {
            let _ = writeln!(out, "<h4>{}</h4>", esc(text));
        }
        Block::Para { text } => {
            let _ = writeln!(out, "<p>{}</p>", esc(text));
        }
        Block::Note { text } => {
            let _ = writeln!(out, r#"<p class="note">{}</p>"#, esc(text));
        }
        Block::Bullets { items } => {
            out.push_str("<ul>");
            for i in items {
                let _ = write!(out, "<li>{}</li>", esc(i));
            }
            out.push_str("</ul>\n");
        }
        Block::Fields { rows } => fields(out, rows),
        Block::Table(t) => table(out, t),
        Block::Flow(f) => flow(out, f),
        Block::Figure { svg, caption, alt } => {
            // `svg` is generated by svg.rs, which escapes every text it writes.
            let _ = writeln!(
                out,
                r#"<figure class="roc" role="img" aria-label="{}">{svg}<figcaption>{}</figcaption></figure>"#,
                esc(alt),
                esc(caption)
            );
        }
    }
}

pub(crate) fn render(doc: &Doc) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"kizon-report {}\">\n<title>{} {}</title>\n<style>{CSS}</style>\n</head>\n<body>\n",
        doc.lang,
        env!("CARGO_PKG_VERSION"),
        esc(&doc.kind),
        esc(&doc.study_id)
    );
    let _ = write!(
        out,
        "<header>\n<h1 class=\"kind\">{}</h1>\n<p class=\"title\">{}</p>\n",
        esc(&doc.kind),
        esc(&doc.study_title)
    );
    fields(&mut out, &doc.title_rows);
    let _ = write!(
        out,
        "<h3>{}</h3>\n<p class=\"hashnote\">{}</p>\n",
        esc(&doc.hashes_heading),
        esc(&doc.hashes_note)
    );
    fields(&mut out, &doc.hash_rows);
    out.push_str("</header>\n");
    let _ = write!(out, "<nav><h2>{}</h2><ul>", esc(&doc.contents));
    for (i, s) in doc.sections.iter().enumerate() {
        let _ = write!(
            out,
            r##"<li><a href="#s{i}">{} {}</a></li>"##,
            esc(&s.number),
            esc(&s.heading)
        );
    }
    out.push_str("</ul></nav>\n<main>\n");
    for (i, s) in doc.sections.iter().enumerate() {
        let number = if s.number.is_empty() {
            String::new()
        } else {
            format!("{} ", esc(&s.number))
        };
        let _ = write!(
            out,
            "<section id=\"s{i}\">\n<h2>{number}{}</h2>\n",
            esc(&s.heading)
        );
        for b in &s.blocks {
            block(&mut out, b);
        }
        out.push_str("</section>\n");
    }
    let _ = write!(
        out,
        "</main>\n<footer><p class=\"hashnote\">{}</p></footer>\n</body>\n</html>\n",
        esc(&doc.running_foot)
    );
    out
}
