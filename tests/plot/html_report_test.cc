// HTML escaping, the markdown subset, tables and inlined SVG figures.
#include <gtest/gtest.h>
#include <libxml/parser.h>

#include <filesystem>

#include "core/file_io.h"
#include "plot/charts.h"
#include "plot/html_report.h"
#include "test_util.h"

namespace longctx::plot {
namespace {

std::string tmpdir(const std::string& name) {
  std::string d = std::string(LONGCTX_TEST_TMP) + "/plot/" + name;
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

int count(const std::string& s, const std::string& what) {
  int n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

TEST(Html, Escape) {
  EXPECT_EQ(html_escape("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
  EXPECT_EQ(html_escape("plain text 128K"), "plain text 128K");
  EXPECT_EQ(html_escape(""), "");
}

TEST(Html, MarkdownSubset) {
  EXPECT_EQ(markdown_to_html("Hello **world** & `a<b`\nsecond line\n\n- one\n- *two*\n"),
            "<p>Hello <strong>world</strong> &amp; <code>a&lt;b</code> second line</p>\n"
            "<ul>\n<li>one</li>\n<li><em>two</em></li>\n</ul>\n");
  EXPECT_EQ(markdown_to_html("## Setup\nsee [paper](https://x.org/?a=1&b=2)"),
            "<h4>Setup</h4>\n<p>see <a href=\"https://x.org/?a=1&amp;b=2\">paper</a></p>\n");
  // Unmatched markers and raw HTML are text.
  EXPECT_EQ(markdown_to_html("2 * 3 <script>"), "<p>2 * 3 &lt;script&gt;</p>\n");
  EXPECT_EQ(markdown_to_html("**open"), "<p>**open</p>\n");
}

TEST(Html, PrefixSvgIds) {
  std::string svg = "<svg><symbol id=\"glyph0-1\"/><use xlink:href=\"#glyph0-1\"/>"
                    "<path style=\"fill:url(#linear0)\"/><linearGradient id=\"linear0\"/></svg>";
  EXPECT_EQ(prefix_svg_ids(svg, "f1-"),
            "<svg><symbol id=\"f1-glyph0-1\"/><use xlink:href=\"#f1-glyph0-1\"/>"
            "<path style=\"fill:url(#f1-linear0)\"/><linearGradient id=\"f1-linear0\"/></svg>");
}

TEST(Html, ReportWithTableAndFigures) {
  auto d = tmpdir("report");
  BarChartConfig bars;
  bars.title = "shares";
  bars.categories = {"a", "b"};
  bars.series = {{"x", {1, 2}, std::nullopt}};
  ASSERT_TRUE(render_bar_chart(bars, d + "/bars.svg").is_ok());

  HtmlReport r;
  r.title = "Run <7> & co";
  r.subtitle = "seed 1";
  HtmlTable t;
  t.caption = "Loss difference";
  t.header = {"domain", "0-4K"};
  t.rows = {{"Book<s>", "-0.065"}, {"Wiki", "+.002"}};
  HtmlImage linked{"bars.svg", "Figure 1: *shares*", "", HtmlImage::Mode::kLink};
  HtmlImage inlined{"bars.svg", "inline 1", "", HtmlImage::Mode::kInlineSvg};
  HtmlImage inlined2{"bars.svg", "inline 2", "", HtmlImage::Mode::kInlineSvg};
  r.sections = {{"Data", {HtmlText{"Tokens per **domain**."}, t, linked, inlined, inlined2}}};
  ASSERT_TRUE(write_html_report(r, d + "/index.html").is_ok());
  std::string html = *read_file(d + "/index.html");
  EXPECT_NE(html.find("<title>Run &lt;7&gt; &amp; co</title>"), std::string::npos);
  EXPECT_NE(html.find("<h1>Run &lt;7&gt; &amp; co</h1>"), std::string::npos);
  EXPECT_NE(html.find("<td>Book&lt;s&gt;</td>"), std::string::npos);
  EXPECT_NE(html.find("<td class=\"num\">-0.065</td>"), std::string::npos);
  EXPECT_NE(html.find("<td class=\"num\">+.002</td>"), std::string::npos);
  EXPECT_NE(html.find("<img src=\"bars.svg\" alt=\"Figure 1: *shares*\">"), std::string::npos);
  EXPECT_NE(html.find("<figcaption>Figure 1: <em>shares</em></figcaption>"), std::string::npos);
  EXPECT_EQ(count(html, "<svg"), 2);
  EXPECT_EQ(html.find("<?xml"), std::string::npos);
  // Each inlined SVG is well-formed on its own and carries only its own prefixed ids.
  size_t a = html.find("<svg"), b = html.find("</svg>", a);
  std::string first = html.substr(a, b + 6 - a);
  xmlDoc* doc = xmlReadMemory(first.data(), static_cast<int>(first.size()), "f.svg", nullptr, XML_PARSE_NONET);
  ASSERT_NE(doc, nullptr);
  xmlFreeDoc(doc);
  // Figures are numbered in page order: the linked image is 1, the inlined ones 2 and 3.
  EXPECT_GT(count(first, " id=\"fig2-"), 0);
  EXPECT_EQ(count(first, " id=\""), count(first, " id=\"fig2-"));
  EXPECT_EQ(count(first, "href=\"#"), count(first, "href=\"#fig2-"));
  std::string second = html.substr(html.find("<svg", b));
  EXPECT_GT(count(second, " id=\"fig3-"), 0);
  EXPECT_EQ(count(second, " id=\""), count(second, " id=\"fig3-"));

  // A missing inlined figure is an error naming the file; nothing is published.
  r.sections[0].blocks.push_back(HtmlImage{"missing.svg", "", "", HtmlImage::Mode::kInlineSvg});
  Status st = write_html_report(r, d + "/bad.html");
  EXPECT_FALSE(st.is_ok());
  EXPECT_NE(st.message().find("missing.svg"), std::string::npos) << st.message();
  EXPECT_FALSE(file_exists(d + "/bad.html"));
}


TEST(Html, Base64MatchesRfc4648Vectors) {
  // RFC 4648 section 10.
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foob"), "Zm9vYg==");
  EXPECT_EQ(base64_encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_encode(std::string("\xff\xfe\x00", 3)), "//4A");
}

TEST(Html, FencedCodeIsVerbatim) {
  EXPECT_EQ(markdown_to_html("Run:\n```\nlongctx a <b> \\\n  --c **d**\n\nnext\n```\nafter"),
            "<p>Run:</p>\n<pre><code>longctx a &lt;b&gt; \\\n  --c **d**\n\nnext\n</code></pre>\n<p>after</p>\n");
}

TEST(Html, TableIdsClassesAndCallouts) {
  HtmlReport r;
  r.title = "t";
  HtmlTable t;
  t.id = "diff";
  t.header = {"domain", "d"};
  t.rows = {{"Book", "-0.065"}, {"C4", "+0.002"}};
  t.cell_classes = {{"", "better"}, {"", "same"}};
  r.sections = {{"S", {HtmlCallout{"Not run: **train** is missing."}, t}, "sec-s"}};
  r.contents = true;
  auto html = render_html_report(r, "");
  ASSERT_TRUE(html.is_ok()) << html.status().message();
  EXPECT_NE(html->find("<table id=\"diff\">"), std::string::npos);
  EXPECT_NE(html->find("<td class=\"num better\">-0.065</td>"), std::string::npos);
  EXPECT_NE(html->find("<td class=\"num same\">+0.002</td>"), std::string::npos);
  EXPECT_NE(html->find("<div class=\"callout\">\n<p>Not run: <strong>train</strong> is missing.</p>\n</div>"), std::string::npos);
  EXPECT_NE(html->find("<section id=\"sec-s\">"), std::string::npos);
  EXPECT_NE(html->find("<li><a href=\"#sec-s\">S</a></li>"), std::string::npos);
  EXPECT_EQ(html->find("Content-Security-Policy"), std::string::npos);
  t.cell_classes = {{"", "better"}};  // wrong shape
  r.sections[0].blocks = {t};
  EXPECT_FALSE(render_html_report(r, "").is_ok());
}

TEST(Html, SelfContainedEmbedsPngAndSvg) {
  auto d = tmpdir("embed");
  BarChartConfig bars;
  bars.title = "shares";
  bars.categories = {"a", "b"};
  bars.series = {{"x", {1, 2}, std::nullopt}};
  ASSERT_TRUE(render_bar_chart(bars, d + "/bars.png").is_ok());
  ASSERT_TRUE(render_bar_chart(bars, d + "/bars.svg").is_ok());
  HtmlReport r;
  r.title = "embedded";
  r.self_contained = true;
  HtmlFigureRow row;
  row.figures = {{"bars.png", "png", "", HtmlImage::Mode::kEmbed}, {"bars.svg", "svg", "", HtmlImage::Mode::kInlineSvg},
                 {"bars.svg", "svg as data", "", HtmlImage::Mode::kEmbed}};
  row.caption = "side by side";
  r.sections = {{"Figures", {row}}};
  ASSERT_TRUE(write_html_report(r, d + "/index.html").is_ok());
  std::string html = *read_file(d + "/index.html");
  EXPECT_NE(html.find("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; "
                      "style-src 'unsafe-inline'\">"),
            std::string::npos);
  // The data: URIs carry exactly the files' bytes, as coreutils' base64 writes them.
  for (const auto& [file, mime] : {std::pair{"bars.png", "image/png"}, std::pair{"bars.svg", "image/svg+xml"}}) {
    auto b64 = longctx::testing::run_command("base64 -w0 " + d + "/" + file);
    ASSERT_EQ(b64.exit_code, 0);
    EXPECT_NE(html.find(std::string("<img src=\"data:") + mime + ";base64," + b64.output + "\""), std::string::npos) << file;
  }
  // Numbering runs through the row: the inlined SVG is figure 2.
  EXPECT_GT(count(html, " id=\"fig2-"), 0);
  EXPECT_NE(html.find("<div class=\"figrow\">"), std::string::npos);
  EXPECT_NE(html.find("<p class=\"rowcaption\">side by side</p>"), std::string::npos);
  EXPECT_EQ(html.find("src=\"bars"), std::string::npos);

  // A linked figure has no place in a self-contained page; neither has a PNG that is not one.
  r.sections = {{"F", {HtmlImage{"bars.png", "", "", HtmlImage::Mode::kLink}}}};
  auto st = render_html_report(r, d);
  ASSERT_FALSE(st.is_ok());
  EXPECT_NE(st.status().message().find("self-contained"), std::string::npos) << st.status().message();
  ASSERT_TRUE(write_file_atomic(d + "/fake.png", "not a png").is_ok());
  r.sections = {{"F", {HtmlImage{"fake.png", "", "", HtmlImage::Mode::kEmbed}}}};
  st = render_html_report(r, d);
  ASSERT_FALSE(st.is_ok());
  EXPECT_NE(st.status().message().find("fake.png"), std::string::npos) << st.status().message();
  r.sections = {{"F", {HtmlImage{"bars.gif", "", "", HtmlImage::Mode::kEmbed}}}};
  EXPECT_FALSE(render_html_report(r, d).is_ok());
}

}  // namespace
}  // namespace longctx::plot
