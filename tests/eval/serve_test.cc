// The OpenAI-compatible server and client: malformed requests get 4xx and the server keeps
// serving; the official npm `openai` client gets the native engine's completion, plain and
// streamed; the HTTP client survives a server error and a timeout and scores scripted answers;
// needle results through --endpoint on loopback equal the native backend's; SIGTERM stops
// `longctx serve` cleanly.
#include <gtest/gtest.h>
#include <httplib.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include "eval/generator.h"
#include "eval/needle.h"
#include "eval/scores.h"
#include "eval/server.h"
#include "kernels/cpu/threads.h"
#include "model/checkpoint.h"
#include "model/generate.h"
#include "test_util.h"

using namespace longctx;
using namespace longctx::eval;
using namespace longctx::model;

namespace {

struct TinySetup {
  std::string dir;
  std::shared_ptr<const Tokenizer> tok;
  std::optional<LlamaModel> m;
};

// A 2-layer model over the tiny tokenizer's 400 ids, 1024 positions, saved with its tokenizer.
TinySetup& tiny() {
  static TinySetup s;
  if (s.m) return s;
  s.dir = longctx::testing::scratch_dir("serve-model");
  auto tok = load_tokenizer(longctx::testing::tiny_tokenizer());
  EXPECT_TRUE(tok.is_ok());
  s.tok = std::shared_ptr<const Tokenizer>(std::move(*tok));
  LlamaConfig c;
  c.vocab_size = static_cast<int>(s.tok->vocab_size());
  c.hidden_size = 32, c.intermediate_size = 48, c.num_hidden_layers = 2, c.num_attention_heads = 4;
  c.num_key_value_heads = 2, c.max_position_embeddings = 1024;
  c.bos_token_id = s.tok->bos_id(), c.eos_token_id = s.tok->eos_id();
  auto m = LlamaModel::create(c);
  EXPECT_TRUE(m.is_ok());
  init_params(c, 11, 0.4f, m->params());
  EXPECT_TRUE(save_checkpoint(*m, s.dir, {}).is_ok());
  std::filesystem::copy_file(longctx::testing::tiny_tokenizer(), s.dir + "/tokenizer.model");
  s.m.emplace(std::move(*m));
  return s;
}

// An in-process server on a free loopback port, serving until the object goes away.
struct RunningServer {
  NativeGenerator gen;
  CompletionServer server;
  std::thread thread;
  int port = 0;
  explicit RunningServer(int queue = 4)
      : gen(*tiny().m, tiny().tok, "tiny"), server(gen, [&] {
          ServeConfig c;
          c.port = 0;
          c.model_name = "tiny";
          c.queue_capacity = queue;
          // one kernel thread on the engine's thread: OpenMP barriers between two threads crawl
          // on a loaded machine
          c.engine_thread_init = [] { cpu::set_num_threads(1); };
          return c;
        }()) {
    auto p = server.bind();
    EXPECT_TRUE(p.is_ok());
    port = *p;
    thread = std::thread([this] { EXPECT_TRUE(server.listen().is_ok()); });
  }
  ~RunningServer() {
    server.stop();
    thread.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port); }
};

std::string greedy_text(const std::string& prompt, int max_tokens) {
  NativeGenerator g(*tiny().m, tiny().tok, "tiny");
  GenerationRequest r;
  r.prompt_text = prompt;
  r.max_new_tokens = max_tokens;
  auto c = g.complete(r);
  EXPECT_TRUE(c.is_ok());
  return c.is_ok() ? c->text : "";
}

nlohmann::json post(httplib::Client& cli, const std::string& body, int* status) {
  cli.set_read_timeout(120, 0);  // generous: the suite runs on a shared, loaded machine
  auto res = cli.Post("/v1/completions", body, "application/json");
  *status = res ? res->status : -1;
  if (!res) return nullptr;
  return nlohmann::json::parse(res->body, nullptr, false);
}

}  // namespace

TEST(Serve, MalformedRequestsGet4xxAndTheServerKeepsServing) {
  RunningServer s;
  httplib::Client cli(s.url());
  int st = 0;
  auto j = post(cli, "{not json", &st);
  EXPECT_EQ(st, 400);
  EXPECT_EQ(j["error"]["type"], "invalid_request_error");
  EXPECT_TRUE(j["error"]["message"].is_string());
  j = post(cli, R"({"prompt": 5})", &st);
  EXPECT_EQ(st, 400);
  EXPECT_EQ(j["error"]["param"], "prompt");
  j = post(cli, R"({"prompt": "the", "max_tokens": "many"})", &st);
  EXPECT_EQ(st, 400);
  EXPECT_EQ(j["error"]["param"], "max_tokens");
  j = post(cli, R"({"prompt": "the", "temperature": -1})", &st);
  EXPECT_EQ(st, 400);
  j = post(cli, R"({"prompt": [1, 2, 99999]})", &st);
  EXPECT_EQ(st, 400);
  j = post(cli, R"({"prompt": "the model", "max_tokens": 1100})", &st);  // beyond the 1024 positions
  EXPECT_EQ(st, 400);
  EXPECT_EQ(j["error"]["code"], "context_length_exceeded");
  j = post(cli, R"({"prompt": "the", "stream": "yes"})", &st);
  EXPECT_EQ(st, 400);
  auto nf = cli.Get("/v1/nothing");
  ASSERT_TRUE(nf);
  EXPECT_EQ(nf->status, 404);
  EXPECT_TRUE(nlohmann::json::parse(nf->body)["error"].is_object());

  // still serving: a good request gets the native engine's greedy text
  j = post(cli, R"({"prompt": "the model", "max_tokens": 12, "temperature": 0})", &st);
  ASSERT_EQ(st, 200) << j.dump();
  EXPECT_EQ(j["choices"][0]["text"], greedy_text("the model", 12));
  EXPECT_EQ(j["object"], "text_completion");
  EXPECT_EQ(j["usage"]["total_tokens"].get<int>(),
            j["usage"]["prompt_tokens"].get<int>() + j["usage"]["completion_tokens"].get<int>());
  // token-id prompts: the same prompt as ids gives the same text
  std::vector<uint32_t> ids;
  ASSERT_TRUE(tiny().tok->encode("the model", &ids).is_ok());
  nlohmann::json body = {{"prompt", nlohmann::json::array()}, {"max_tokens", 12}, {"temperature", 0}};
  body["prompt"].push_back(tiny().tok->bos_id());
  for (uint32_t id : ids) body["prompt"].push_back(id);
  auto j2 = post(cli, body.dump(), &st);
  ASSERT_EQ(st, 200);
  EXPECT_EQ(j2["choices"][0]["text"], j["choices"][0]["text"]);
  auto h = cli.Get("/health");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
}

TEST(Serve, FullQueueAnswers503) {
  // The engine thread waits at a gate before taking its first request: with room for one
  // waiting request, the first is queued and the second refused; after the gate opens the first
  // is answered.
  std::promise<void> gate;
  std::shared_future<void> open = gate.get_future().share();
  NativeGenerator gen(*tiny().m, tiny().tok, "tiny");
  ServeConfig c;
  c.port = 0;
  c.model_name = "tiny";
  c.queue_capacity = 0;
  c.engine_thread_init = [open] { open.wait(); };
  CompletionServer server(gen, c);
  auto port = server.bind();
  ASSERT_TRUE(port.is_ok());
  std::thread srv([&] { EXPECT_TRUE(server.listen().is_ok()); });
  const std::string url = "http://127.0.0.1:" + std::to_string(*port);
  int first = 0;
  std::thread t([&] {
    httplib::Client cli(url);
    post(cli, R"({"prompt": "the", "max_tokens": 2})", &first);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  httplib::Client cli(url);
  int second = 0;
  auto j = post(cli, R"({"prompt": "the", "max_tokens": 2})", &second);
  EXPECT_EQ(second, 503);
  EXPECT_EQ(j["error"]["type"], "server_error");
  gate.set_value();
  t.join();
  EXPECT_EQ(first, 200);
  EXPECT_EQ(server.rejected_busy(), 1);
  server.stop();
  srv.join();
}

TEST(Serve, OfficialOpenAiClientPlainAndStreamed) {
  const std::string node_dir = std::string(LONGCTX_SOURCE_DIR) + "/tests/eval/openai_node";
  if (!std::filesystem::exists(node_dir + "/node_modules/openai") ||
      longctx::testing::run_command("node --version").exit_code != 0) {
    GTEST_SKIP() << "npm package 'openai' not installed (scripts/setup.sh installs it)";
  }
  RunningServer s;
  auto r = longctx::testing::run_command("node " + node_dir + "/openai_client.mjs " + s.url() + "/v1 tiny 'the data' 10");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto j = nlohmann::json::parse(r.output.substr(r.output.find('{')), nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.output;
  const std::string want = greedy_text("the data", 10);
  EXPECT_EQ(j["text"], want);
  EXPECT_EQ(j["streamed"], want);
  EXPECT_GE(j["chunks"].get<int>(), 2);  // pieces and a final chunk
  EXPECT_EQ(j["usage"]["completion_tokens"].get<int>() <= 10, true);
  EXPECT_TRUE(j["finish_reason"] == "length" || j["finish_reason"] == "stop");
  EXPECT_EQ(j["stream_finish"], j["finish_reason"]);
  EXPECT_EQ(j["models"], nlohmann::json::array({"tiny"}));
  EXPECT_EQ(j["bad_status"], 400);
}

TEST(HttpClient, ScriptedServerErrorTimeoutAndScores) {
  httplib::Server svr;
  std::atomic<int> calls{0};
  // Answers in call order: 500, a reply slower than the client's timeout, then the scripted texts.
  const std::vector<std::string> answers = {"Eat a sandwich and sit in Dolores Park on a sunny day.", "No idea.",
                                            "Dolores Park", "a sunny day"};
  svr.Post("/v1/completions", [&](const httplib::Request& req, httplib::Response& res) {
    int k = calls++;
    if (k == 0) {
      res.status = 500;
      res.set_content(R"({"error": {"message": "scripted failure"}})", "application/json");
      return;
    }
    if (k == 1) std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    auto body = nlohmann::json::parse(req.body);
    EXPECT_EQ(body["model"], "scripted");
    EXPECT_TRUE(body["prompt"].is_string());  // no tokenizer: text prompts
    size_t i = k == 1 ? 0 : static_cast<size_t>(k - 2);
    nlohmann::json out = {{"choices", {{{"text", answers[std::min(i, answers.size() - 1)]}, {"finish_reason", "stop"}}}},
                          {"usage", {{"prompt_tokens", 1}, {"completion_tokens", 2}}}};
    res.set_content(out.dump(), "application/json");
  });
  int port = svr.bind_to_any_port("127.0.0.1");
  std::thread t([&] { svr.listen_after_bind(); });

  HttpClientConfig hc;
  hc.endpoint = "http://127.0.0.1:" + std::to_string(port);
  hc.model_name = "scripted";
  hc.timeout_s = 0.5;
  hc.max_retries = 3;
  hc.backoff_s = 0.01;
  HttpGenerator gen(hc);
  auto codec = word_codec();
  std::vector<int32_t> hay;
  ASSERT_TRUE(codec->encode(longctx::testing::fake_text(5, 4000), &hay).is_ok());
  NeedleConfig cfg;
  cfg.lengths = {300, 400};
  cfg.depths = {0, 100};
  cfg = cfg.resolved();
  std::vector<CellResult> got;
  Status st = run_sweep(cfg, hay, *codec, gen, 1, {}, [&](const CellResult& c) {
    got.push_back(c);
    return Status::ok();
  }, nullptr);
  ASSERT_TRUE(st.is_ok()) << st.message();
  svr.stop();
  t.join();
  // the first cell needed three attempts (500, timeout, answer); the others one each
  EXPECT_EQ(gen.attempts(), 6);
  ASSERT_EQ(got.size(), 4u);
  // cells in grid order: (300,0) (300,100) (400,0) (400,100); the first got answers[0] after the
  // retries (the slow call's answer arrived after the client gave up), then 2, 3, 4 -> answers[2..]
  // clamp: call k=2 -> answers[0], k=3 -> answers[1], ...
  EXPECT_EQ(got[0].response, answers[0]);
  EXPECT_DOUBLE_EQ(got[0].score, 1.0);
  EXPECT_EQ(got[1].response, answers[1]);
  EXPECT_DOUBLE_EQ(got[1].score, 0.0);
  EXPECT_EQ(got[2].response, answers[2]);
  EXPECT_DOUBLE_EQ(got[2].score, 2.0 / 12);  // dolores, park
  EXPECT_EQ(got[3].response, answers[3]);
  EXPECT_DOUBLE_EQ(got[3].score, 4.0 / 12);  // a, a, sunny, day
  EXPECT_NEAR(got[3].rouge1_f, rouge1_f(answers[3], kPaperAnswer), 1e-12);
}

TEST(HttpClient, NeedleThroughTheEndpointEqualsNative) {
  RunningServer s;
  auto codec = tokenizer_codec(tiny().tok);
  std::vector<int32_t> hay;
  ASSERT_TRUE(codec->encode(longctx::testing::fake_text(9, 3000), &hay).is_ok());
  NeedleConfig cfg;
  cfg.lengths = {300, 420, 1500};  // 1500 exceeds the 1024 positions
  cfg.depths = {0, 50, 100};
  cfg.max_new_tokens = 8;
  cfg.buffer_tokens = 60;
  cfg = cfg.resolved();
  auto sweep = [&](Generator& g, int concurrency) {
    std::vector<CellResult> out;
    Status st = run_sweep(cfg, hay, *codec, g, concurrency, {}, [&](const CellResult& c) {
      out.push_back(c);
      return Status::ok();
    }, nullptr);
    EXPECT_TRUE(st.is_ok()) << st.message();
    return summarize(cfg, out);
  };
  NativeGenerator native(*tiny().m, tiny().tok, "tiny");
  HttpClientConfig hc;
  hc.endpoint = s.url() + "/v1";
  hc.model_name = "tiny";
  hc.context_length = 1024;
  HttpGenerator remote(hc);
  SweepSummary a = sweep(native, 1), b = sweep(remote, 3);
  ASSERT_EQ(a.cells.size(), 9u);
  ASSERT_EQ(b.cells.size(), 9u);
  EXPECT_EQ(a.skipped, 3u);
  EXPECT_EQ(b.skipped, 3u);
  for (size_t i = 0; i < a.cells.size(); ++i) {
    EXPECT_EQ(a.cells[i].skipped, b.cells[i].skipped) << i;
    EXPECT_EQ(a.cells[i].prompt_tokens, b.cells[i].prompt_tokens) << i;
    EXPECT_EQ(a.cells[i].needle_position, b.cells[i].needle_position) << i;
    EXPECT_EQ(a.cells[i].response, b.cells[i].response) << i;
    EXPECT_EQ(a.cells[i].score, b.cells[i].score) << i;
  }
}

TEST(ServeCli, SigtermStopsCleanly) {
  const std::string dir = tiny().dir;
  int out[2];
  ASSERT_EQ(pipe(out), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    dup2(out[1], 1);
    close(out[0]);
    execl(LONGCTX_BINARY, LONGCTX_BINARY, "serve", "--model", dir.c_str(), "--port", "0", "--threads", "1",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  close(out[1]);
  std::string line;
  char ch;
  while (read(out[0], &ch, 1) == 1 && ch != '\n') line += ch;
  close(out[0]);
  // "serving 'serve-model' (1024 positions) on http://127.0.0.1:PORT/v1 ..."
  size_t at = line.find("127.0.0.1:");
  ASSERT_NE(at, std::string::npos) << line;
  int port = std::stoi(line.substr(at + 10));
  httplib::Client cli("127.0.0.1", port);
  auto h = cli.Get("/health");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  int st = 0;
  auto j = post(cli, R"({"prompt": "the", "max_tokens": 3})", &st);
  EXPECT_EQ(st, 200);
  kill(pid, SIGTERM);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}
