// A small HTML report builder (docs/plots.md: one page with every table and figure of a
// run). Plain data in, one self-contained page out; charts are linked by relative path or inlined
// as SVG. All text is escaped; the markdown subset is described at markdown_to_html.
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

// A table; cells are plain text (escaped). Cells that read as numbers ("1.5", "-0.008", "12%",
// "5B") are right-aligned.
struct HtmlTable {
  std::string caption;
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};

// A figure. `path` is relative to the report's directory (it becomes the <img src>); with
// inline_svg the SVG file's markup is embedded instead (its ids are prefixed so several inlined
// charts do not clash).
struct HtmlImage {
  std::string path;
  std::string caption;
  std::string alt;
  bool inline_svg = false;
};

using HtmlBlock = std::variant<HtmlText, HtmlTable, HtmlImage>;

struct HtmlSection {
  std::string heading;
  std::vector<HtmlBlock> blocks;
};

struct HtmlReport {
  std::string title;
  std::string subtitle;  // e.g. run id and date
  std::vector<HtmlSection> sections;
};

// Escapes & < > " ' for text and attribute values.
std::string html_escape(std::string_view text);

// Blocks are separated by blank lines. A block of lines starting "- " or "* " is a bullet list;
// a line starting "# ", "## ", "### " is a heading (h3, h4, h5: the page and sections own h1/h2);
// any other block is a paragraph (lines joined by spaces). Inline: `code`, **bold**, *italic*,
// [text](url). Everything else is escaped literally, unmatched markers included.
std::string markdown_to_html(std::string_view markdown);

// Prefixes every id="..." and its references (href="#...", url(#...)) in SVG markup.
std::string prefix_svg_ids(std::string_view svg, std::string_view prefix);

// The whole page. Inlined SVGs are read from base_dir / path.
Result<std::string> render_html_report(const HtmlReport& report, const std::string& base_dir);
// Renders with base_dir = the directory of `path` and publishes atomically.
Status write_html_report(const HtmlReport& report, const std::string& path);

}  // namespace longctx::plot
