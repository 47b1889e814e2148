#include "plot/html_report.h"

#include <cctype>
#include <cstdlib>
#include <filesystem>

#include <fmt/format.h>

#include "core/file_io.h"

namespace longctx::plot {
namespace {

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string inline_markdown(std::string_view s) {
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (c == '`') {
      size_t end = s.find('`', i + 1);
      if (end != std::string_view::npos) {
        out += "<code>" + html_escape(s.substr(i + 1, end - i - 1)) + "</code>";
        i = end + 1;
        continue;
      }
    } else if (starts_with(s.substr(i), "**")) {
      size_t end = s.find("**", i + 2);
      if (end != std::string_view::npos && end > i + 2) {
        out += "<strong>" + inline_markdown(s.substr(i + 2, end - i - 2)) + "</strong>";
        i = end + 2;
        continue;
      }
    } else if (c == '*') {
      size_t end = s.find('*', i + 1);
      if (end != std::string_view::npos && end > i + 1 && s[i + 1] != ' ') {
        out += "<em>" + inline_markdown(s.substr(i + 1, end - i - 1)) + "</em>";
        i = end + 1;
        continue;
      }
    } else if (c == '[') {
      size_t close = s.find("](", i + 1);
      size_t end = close == std::string_view::npos ? close : s.find(')', close + 2);
      if (end != std::string_view::npos) {
        out += "<a href=\"" + html_escape(s.substr(close + 2, end - close - 2)) + "\">" +
               inline_markdown(s.substr(i + 1, close - i - 1)) + "</a>";
        i = end + 1;
        continue;
      }
    }
    out += html_escape(s.substr(i, 1));
    ++i;
  }
  return out;
}

std::vector<std::string_view> split_lines(std::string_view s) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start <= s.size()) {
    size_t nl = s.find('\n', start);
    if (nl == std::string_view::npos) nl = s.size();
    std::string_view line = s.substr(start, nl - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    start = nl + 1;
  }
  return lines;
}

bool is_bullet(std::string_view line) {
  std::string_view t = trim(line);
  return starts_with(t, "- ") || starts_with(t, "* ");
}

// "1.5", "-0.008", "+.002", "12%", "5B", "1,024" read as numbers (right-aligned in tables).
bool looks_numeric(std::string_view cell) {
  std::string_view t = trim(cell);
  if (t.empty()) return false;
  size_t i = 0;
  if (t[i] == '+' || t[i] == '-') ++i;
  bool digit = false;
  while (i < t.size() && (std::isdigit(static_cast<unsigned char>(t[i])) || t[i] == '.' || t[i] == ',')) {
    digit |= std::isdigit(static_cast<unsigned char>(t[i])) != 0;
    ++i;
  }
  if (!digit) return false;
  std::string_view rest = t.substr(i);
  return rest.empty() || rest == "%" || rest == "K" || rest == "M" || rest == "B" || rest == "T" ||
         rest == "x";
}

const char* kCss = R"(body{font-family:"DejaVu Sans",system-ui,-apple-system,"Segoe UI",sans-serif;color:#222;
max-width:1100px;margin:2em auto;padding:0 1.2em;line-height:1.5}
h1{font-size:1.7em;margin-bottom:.1em}h2{font-size:1.3em;border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em}
.subtitle{color:#666;margin-top:0}
table{border-collapse:collapse;margin:1em 0;font-size:.92em}
th,td{padding:.3em .8em;border-bottom:1px solid #e3e3e3;text-align:left}
th{background:#f3f4f6;border-bottom:2px solid #ccc}tr:nth-child(even) td{background:#fafafa}
td.num{text-align:right;font-variant-numeric:tabular-nums}
caption{caption-side:top;text-align:left;font-weight:bold;padding-bottom:.3em}
figure{margin:1.2em 0}figure img,figure svg{max-width:100%;height:auto}
figcaption{color:#555;font-size:.92em}
code{background:#f3f4f6;padding:0 .25em;border-radius:3px}
pre{background:#f3f4f6;padding:.6em .8em;border-radius:4px;overflow-x:auto;font-size:.88em;line-height:1.35}
pre code{background:none;padding:0}
.callout{border-left:4px solid #d4a72c;background:#fff8e1;padding:.4em 1em;margin:1em 0}
.callout p{margin:.4em 0}
.figrow{display:flex;flex-wrap:wrap;gap:1em}.figrow figure{flex:1 1 300px;margin:.4em 0}
.rowcaption{color:#555;font-size:.92em;margin-top:0}
td.better{background:#d8f5e5!important}td.worse{background:#fbdde4!important}td.same{color:#888}
td.agree{background:#d8f5e5!important}td.disagree{background:#fbdde4!important}td.na{color:#888}
nav.contents ul{columns:2;font-size:.95em}
)";

const char* kContentSecurityPolicy = "default-src 'none'; img-src data:; style-src 'unsafe-inline'";

Result<std::string> render_table(const HtmlTable& t) {
  if (!t.cell_classes.empty()) {
    bool same_shape = t.cell_classes.size() == t.rows.size();
    for (size_t r = 0; same_shape && r < t.rows.size(); ++r) same_shape = t.cell_classes[r].size() == t.rows[r].size();
    if (!same_shape) {
      return make_error(ErrorCode::kInvalidArgument, "table '{}': cell_classes must have the shape of the rows",
                        t.id.empty() ? t.caption : t.id);
    }
  }
  std::string out = t.id.empty() ? "<table>\n" : "<table id=\"" + html_escape(t.id) + "\">\n";
  if (!t.caption.empty()) out += "<caption>" + html_escape(t.caption) + "</caption>\n";
  if (!t.header.empty()) {
    out += "<thead><tr>";
    for (const auto& h : t.header) out += "<th>" + html_escape(h) + "</th>";
    out += "</tr></thead>\n";
  }
  out += "<tbody>\n";
  for (size_t r = 0; r < t.rows.size(); ++r) {
    out += "<tr>";
    for (size_t c = 0; c < t.rows[r].size(); ++c) {
      const std::string& cell = t.rows[r][c];
      std::string cls = looks_numeric(cell) ? "num" : "";
      if (!t.cell_classes.empty() && !t.cell_classes[r][c].empty()) {
        cls += (cls.empty() ? "" : " ") + t.cell_classes[r][c];
      }
      out += cls.empty() ? "<td>" : "<td class=\"" + html_escape(cls) + "\">";
      out += html_escape(cell) + "</td>";
    }
    out += "</tr>\n";
  }
  out += "</tbody>\n</table>\n";
  return out;
}

bool ends_with_ci(std::string_view s, std::string_view suffix) {
  if (s.size() < suffix.size()) return false;
  for (size_t i = 0; i < suffix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[s.size() - suffix.size() + i])) != suffix[i]) return false;
  }
  return true;
}

// The figure's markup without the <figure> wrapper: inlined SVG, an embedded data: URI or a link.
Result<std::string> image_markup(const HtmlImage& img, const std::string& base_dir, int figure_no, bool self_contained) {
  const std::string alt = html_escape(img.alt.empty() ? img.caption : img.alt);
  if (img.mode == HtmlImage::Mode::kLink) {
    if (self_contained) {
      return make_error(ErrorCode::kInvalidArgument,
                        "figure '{}': a self-contained report cannot link a file; inline or embed it", img.path);
    }
    return "<img src=\"" + html_escape(img.path) + "\" alt=\"" + alt + "\">\n";
  }
  std::filesystem::path p(img.path);
  std::string full = p.is_absolute() || base_dir.empty() ? img.path : (std::filesystem::path(base_dir) / p).string();
  LONGCTX_ASSIGN_OR_RETURN(std::string bytes, read_file(full));
  if (img.mode == HtmlImage::Mode::kInlineSvg) {
    size_t start = bytes.find("<svg");
    if (start == std::string::npos) {
      return make_error(ErrorCode::kCorrupt, "inlining '{}': no <svg> element", full);
    }
    return prefix_svg_ids(std::string_view(bytes).substr(start), fmt::format("fig{}-", figure_no)) + "\n";
  }
  static constexpr std::string_view kPngMagic = "\x89PNG\r\n\x1a\n";
  std::string_view mime;
  if (ends_with_ci(img.path, ".png")) {
    if (std::string_view(bytes).substr(0, kPngMagic.size()) != kPngMagic) {
      return make_error(ErrorCode::kCorrupt, "embedding '{}': not a PNG file (no PNG signature)", full);
    }
    mime = "image/png";
  } else if (ends_with_ci(img.path, ".svg")) {
    if (bytes.find("<svg") == std::string::npos) {
      return make_error(ErrorCode::kCorrupt, "embedding '{}': no <svg> element", full);
    }
    mime = "image/svg+xml";
  } else {
    return make_error(ErrorCode::kInvalidArgument, "embedding '{}': expected a .png or .svg file", full);
  }
  return fmt::format("<img src=\"data:{};base64,{}\" alt=\"{}\">\n", mime, base64_encode(bytes), alt);
}

Result<std::string> render_image(const HtmlImage& img, const std::string& base_dir, int figure_no, bool self_contained) {
  std::string out = "<figure>\n";
  LONGCTX_ASSIGN_OR_RETURN(std::string markup, image_markup(img, base_dir, figure_no, self_contained));
  out += markup;
  if (!img.caption.empty()) out += "<figcaption>" + inline_markdown(img.caption) + "</figcaption>\n";
  out += "</figure>\n";
  return out;
}

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string base64_encode(std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t v = (static_cast<uint8_t>(bytes[i]) << 16) | (static_cast<uint8_t>(bytes[i + 1]) << 8) |
                 static_cast<uint8_t>(bytes[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (size_t rest = bytes.size() - i; rest > 0) {
    uint32_t v = static_cast<uint8_t>(bytes[i]) << 16;
    if (rest == 2) v |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string markdown_to_html(std::string_view markdown) {
  std::string out;
  std::vector<std::string_view> block;
  auto flush = [&]() {
    if (block.empty()) return;
    bool list = true;
    for (auto l : block) list &= is_bullet(l);
    if (list) {
      out += "<ul>\n";
      for (auto l : block) out += "<li>" + inline_markdown(trim(trim(l).substr(2))) + "</li>\n";
      out += "</ul>\n";
    } else {
      std::string para;
      for (auto l : block) {
        std::string_view t = trim(l);
        int level = starts_with(t, "### ") ? 3 : starts_with(t, "## ") ? 2 : starts_with(t, "# ") ? 1 : 0;
        if (level > 0) {
          if (!para.empty()) out += "<p>" + inline_markdown(para) + "</p>\n", para.clear();
          out += fmt::format("<h{0}>{1}</h{0}>\n", level + 2, inline_markdown(trim(t.substr(level + 1))));
          continue;
        }
        if (!para.empty()) para += ' ';
        para += t;
      }
      if (!para.empty()) out += "<p>" + inline_markdown(para) + "</p>\n";
    }
    block.clear();
  };
  bool in_code = false;
  std::string code;
  for (auto line : split_lines(markdown)) {
    if (starts_with(trim(line), "```")) {
      if (in_code) {
        out += "<pre><code>" + html_escape(code) + "</code></pre>\n";
        code.clear();
      } else {
        flush();
      }
      in_code = !in_code;
    } else if (in_code) {
      code += std::string(line) + "\n";
    } else if (trim(line).empty()) {
      flush();
    } else {
      block.push_back(line);
    }
  }
  if (in_code) out += "<pre><code>" + html_escape(code) + "</code></pre>\n";  // an unclosed fence ends the text
  flush();
  return out;
}

std::string prefix_svg_ids(std::string_view svg, std::string_view prefix) {
  static const std::string_view kMarks[] = {" id=\"", "href=\"#", "url(#"};
  std::string out;
  out.reserve(svg.size() + svg.size() / 16);
  size_t i = 0;
  while (i < svg.size()) {
    bool matched = false;
    for (auto m : kMarks) {
      if (svg.substr(i, m.size()) == m) {
        out += m;
        out += prefix;
        i += m.size();
        matched = true;
        break;
      }
    }
    if (!matched) out += svg[i++];
  }
  return out;
}

Result<std::string> render_html_report(const HtmlReport& report, const std::string& base_dir) {
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  if (report.self_contained) {
    out += fmt::format("<meta http-equiv=\"Content-Security-Policy\" content=\"{}\">\n", kContentSecurityPolicy);
  }
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += "<title>" + html_escape(report.title) + "</title>\n<style>\n" + kCss + "</style>\n</head>\n<body>\n";
  out += "<h1>" + html_escape(report.title) + "</h1>\n";
  if (!report.subtitle.empty()) out += "<p class=\"subtitle\">" + html_escape(report.subtitle) + "</p>\n";
  if (report.contents) {
    out += "<nav class=\"contents\"><ul>\n";
    for (const auto& section : report.sections) {
      if (section.id.empty()) continue;
      out += "<li><a href=\"#" + html_escape(section.id) + "\">" + html_escape(section.heading) + "</a></li>\n";
    }
    out += "</ul></nav>\n";
  }
  int figure_no = 0;
  for (const auto& section : report.sections) {
    out += section.id.empty() ? "<section>\n" : "<section id=\"" + html_escape(section.id) + "\">\n";
    if (!section.heading.empty()) out += "<h2>" + html_escape(section.heading) + "</h2>\n";
    for (const auto& block : section.blocks) {
      if (const auto* t = std::get_if<HtmlText>(&block)) {
        out += markdown_to_html(t->markdown);
      } else if (const auto* note = std::get_if<HtmlCallout>(&block)) {
        out += "<div class=\"callout\">\n" + markdown_to_html(note->markdown) + "</div>\n";
      } else if (const auto* tab = std::get_if<HtmlTable>(&block)) {
        LONGCTX_ASSIGN_OR_RETURN(std::string table, render_table(*tab));
        out += table;
      } else if (const auto* img = std::get_if<HtmlImage>(&block)) {
        LONGCTX_ASSIGN_OR_RETURN(std::string fig, render_image(*img, base_dir, ++figure_no, report.self_contained));
        out += fig;
      } else if (const auto* row = std::get_if<HtmlFigureRow>(&block)) {
        out += "<div class=\"figrow\">\n";
        for (const auto& f : row->figures) {
          LONGCTX_ASSIGN_OR_RETURN(std::string fig, render_image(f, base_dir, ++figure_no, report.self_contained));
          out += fig;
        }
        out += "</div>\n";
        if (!row->caption.empty()) out += "<p class=\"rowcaption\">" + inline_markdown(row->caption) + "</p>\n";
      }
    }
    out += "</section>\n";
  }
  out += "</body>\n</html>\n";
  return out;
}

Status write_html_report(const HtmlReport& report, const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  LONGCTX_ASSIGN_OR_RETURN(std::string html, render_html_report(report, dir));
  return write_file_atomic(path, html).with_context("writing HTML report");
}

}  // namespace longctx::plot
