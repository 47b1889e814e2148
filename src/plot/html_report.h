// A small HTML report builder (docs/plots.md: one page with every table and figure of a
// run). Plain data in, one page out; all text is escaped; the markdown subset is described at
// markdown_to_html.
//
// Figures are linked by relative path, inlined as SVG markup (ids prefixed per figure so several
// charts do not clash), or embedded as data: URIs (PNG or SVG bytes in base64). A report marked
// self_contained may only inline or embed: it carries a Content-Security-Policy that lets the page
// load nothing but its own data: images and styles, so it opens the same way anywhere, offline,
// and a browser reports any stray reference as a console error.
#pragma once
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/status.h"

namespace longctx::plot {

// Markdown-ish text (see markdown_to_html).
struct HtmlText {
  std::string markdown;
};

// A boxed note in markdown-ish text: what the reader must know before the figures below, e.g.
// "this stage has not run yet" or "the miniature cannot show this effect".
struct HtmlCallout {
  std::string markdown;
};

// A table; cells are plain text (escaped). Cells that read as numbers ("1.5", "-0.008", "12%",
// "5B") are right-aligned. `id` becomes the <table id> (readers of the page find tables by it).
// `cell_classes`, when not empty, has the shape of `rows`; a non-empty entry is added as the
// cell's CSS class: "better" (green), "worse" (red), "same" (grey), "agree", "disagree", "na".
struct HtmlTable {
  std::string caption;
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::string id = {};
  std::vector<std::vector<std::string>> cell_classes = {};
};

// A figure. `path` is relative to the report's directory (or absolute).
struct HtmlImage {
  enum class Mode {
    kLink,       // <img src="path">: the file must travel with the page
    kInlineSvg,  // the SVG file's markup in the page, its ids prefixed "fig<N>-"
    kEmbed,      // <img src="data:image/png;base64,...">: PNG or SVG bytes by the extension
  };
  std::string path;
  std::string caption;
  std::string alt;
  Mode mode = Mode::kLink;
};

// Figures side by side (e.g. needle heatmaps of several models), each with its own caption, then
// an optional caption for the row. The page wraps them onto more lines on narrow screens.
struct HtmlFigureRow {
  std::vector<HtmlImage> figures;
  std::string caption;
};

using HtmlBlock = std::variant<HtmlText, HtmlTable, HtmlImage, HtmlCallout, HtmlFigureRow>;

struct HtmlSection {
  std::string heading;
  std::vector<HtmlBlock> blocks;
  std::string id = {};  // <section id>, the target of the contents list; empty: none
};

struct HtmlReport {
  std::string title;
  std::string subtitle;  // e.g. run id and date
  std::vector<HtmlSection> sections;
  // A list of links to the sections that have an id, after the subtitle.
  bool contents = false;
  // No linked figures; a Content-Security-Policy allowing only data: images and inline styles.
  bool self_contained = false;
};

// Escapes & < > " ' for text and attribute values.
std::string html_escape(std::string_view text);

// Standard base64 (RFC 4648 section 4, with '=' padding).
std::string base64_encode(std::string_view bytes);

// Blocks are separated by blank lines. A block of lines starting "- " or "* " is a bullet list;
// a line starting "# ", "## ", "### " is a heading (h3, h4, h5: the page and sections own h1/h2);
// lines between two "```" lines are preformatted code (kept verbatim, escaped, blank lines
// included); any other block is a paragraph (lines joined by spaces). Inline: `code`, **bold**,
// *italic*, [text](url). Everything else is escaped literally, unmatched markers included.
std::string markdown_to_html(std::string_view markdown);

// Prefixes every id="..." and its references (href="#...", url(#...)) in SVG markup.
std::string prefix_svg_ids(std::string_view svg, std::string_view prefix);

// The whole page. Inlined and embedded figures are read from base_dir / path. Errors name the
// figure's file (missing, not SVG for kInlineSvg, neither PNG nor SVG for kEmbed, or linked in a
// self-contained report).
Result<std::string> render_html_report(const HtmlReport& report, const std::string& base_dir);
// Renders with base_dir = the directory of `path` and publishes atomically.
Status write_html_report(const HtmlReport& report, const std::string& path);

}  // namespace longctx::plot
