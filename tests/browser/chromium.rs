//! Headless Chromium for the browser test, driven over the DevTools protocol with
//! chromiumoxide: launching it, opening tabs, reading and clicking the DOM with
//! deadlines, screenshots, and collecting everything the pages report as an error.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chromiumoxide::cdp::browser_protocol::log::{EventEntryAdded, LogEntryLevel};
use chromiumoxide::cdp::browser_protocol::page::CaptureScreenshotFormat;
use chromiumoxide::cdp::js_protocol::runtime::{
    ConsoleApiCalledType, EventConsoleApiCalled, EventExceptionThrown,
};
use chromiumoxide::handler::viewport::Viewport;
use chromiumoxide::page::ScreenshotParams;
use chromiumoxide::{Browser, BrowserConfig, Page};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::task::JoinHandle;

/// How long a page gets to show what the test waits for. Generous: the machine may
/// be busy; a poll returns as soon as the page is there.
pub const DEADLINE: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(40);

/// The screenshots' size: small enough for the README, wide enough for the
/// two-column layout of the agent page.
pub const WIDTH: u32 = 1100;
pub const HEIGHT: u32 = 700;

/// What a page reported as wrong: an uncaught exception, `console.error`, or a
/// browser log entry of level error (a failed load, a refused WebSocket).
#[derive(Debug, Clone)]
pub struct Problem {
    pub at: Instant,
    pub tab: String,
    pub text: String,
}

pub type Problems = Arc<Mutex<Vec<Problem>>>;

pub struct Chromium {
    browser: Browser,
    handler: JoinHandle<()>,
    pub problems: Problems,
}

impl Chromium {
    /// Start `binary` headless with a profile of its own in `profile`.
    pub async fn launch(binary: &str, profile: &Path) -> Chromium {
        let config = BrowserConfig::builder()
            .chrome_executable(binary)
            .user_data_dir(profile)
            // CI runs as root, where Chromium refuses to start with its sandbox.
            .no_sandbox()
            .window_size(WIDTH, HEIGHT)
            .viewport(Viewport {
                width: WIDTH,
                height: HEIGHT,
                device_scale_factor: Some(1.0),
                emulating_mobile: false,
                is_landscape: true,
                has_touch: false,
            })
            .arg("--disable-gpu")
            .arg("--disable-dev-shm-usage")
            .launch_timeout(Duration::from_secs(60))
            .build()
            .expect("browser config");
        let (browser, mut handler) = Browser::launch(config)
            .await
            .unwrap_or_else(|e| panic!("cannot start {binary}: {e}"));
        // The handler carries every DevTools message; it must be polled all along.
        let handler = tokio::spawn(async move { while handler.next().await.is_some() {} });
        Chromium {
            browser,
            handler,
            problems: Arc::default(),
        }
    }

    /// A new tab at `url`, named `name` in problem reports. The listeners are in place
    /// before the page loads, so nothing it reports is missed.
    pub async fn open(&self, name: &str, url: &str) -> Tab {
        let page = self.browser.new_page("about:blank").await.unwrap();
        self.collect(name, &page).await;
        page.goto(url).await.unwrap();
        Tab {
            page,
            name: name.to_string(),
        }
    }

    async fn collect(&self, name: &str, page: &Page) {
        let mut exceptions = page.event_listener::<EventExceptionThrown>().await.unwrap();
        let mut console = page
            .event_listener::<EventConsoleApiCalled>()
            .await
            .unwrap();
        let mut log = page.event_listener::<EventEntryAdded>().await.unwrap();
        page.enable_log().await.unwrap();
        let (problems, tab) = (self.problems.clone(), name.to_string());
        tokio::spawn(async move {
            let note = |text: String| {
                problems.lock().unwrap().push(Problem {
                    at: Instant::now(),
                    tab: tab.clone(),
                    text,
                })
            };
            loop {
                tokio::select! {
                    Some(e) = exceptions.next() => {
                        let d = &e.exception_details;
                        let what = d.exception.as_ref().and_then(|x| x.description.clone());
                        note(format!("exception: {} {}", d.text, what.unwrap_or_default()));
                    }
                    Some(e) = console.next() => {
                        if e.r#type == ConsoleApiCalledType::Error {
                            let args: Vec<String> = e.args.iter().map(|a| {
                                a.value.as_ref().map(Value::to_string)
                                    .or_else(|| a.description.clone())
                                    .unwrap_or_default()
                            }).collect();
                            note(format!("console.error: {}", args.join(" ")));
                        }
                    }
                    Some(e) = log.next() => {
                        if e.entry.level == LogEntryLevel::Error {
                            note(format!("log: {} ({})", e.entry.text,
                                e.entry.url.clone().unwrap_or_default()));
                        }
                    }
                    else => break,
                }
            }
        });
    }

    /// Wait until a page has reported a problem that `pred` picks out.
    pub async fn wait_problem(&self, what: &str, pred: impl Fn(&Problem) -> bool) {
        let end = Instant::now() + DEADLINE;
        while !self.problems.lock().unwrap().iter().any(&pred) {
            assert!(Instant::now() < end, "no page reported {what}");
            tokio::time::sleep(POLL).await;
        }
    }

    pub async fn close(mut self) {
        let _ = self.browser.close().await;
        let _ = self.browser.wait().await;
        self.handler.abort();
    }
}

pub struct Tab {
    pub page: Page,
    pub name: String,
}

impl Tab {
    /// The value of a JavaScript expression.
    pub async fn eval<T: DeserializeOwned>(&self, js: &str) -> T {
        self.page
            .evaluate(js)
            .await
            .unwrap_or_else(|e| panic!("{}: {js}: {e}", self.name))
            .into_value()
            .unwrap_or_else(|e| panic!("{}: {js}: {e}", self.name))
    }

    /// The text of the first element matching `selector` ("" when there is none;
    /// "(hidden)" when it or an ancestor is hidden).
    pub async fn text(&self, selector: &str) -> String {
        let sel = serde_json::to_string(selector).unwrap();
        self.eval(&format!(
            "(() => {{ const e = document.querySelector({sel}); \
             return !e ? '' : e.closest('[hidden]') ? '(hidden)' : e.textContent.trim(); }})()"
        ))
        .await
    }

    /// Wait until `selector`'s text satisfies `ok`; returns it. Fails after
    /// [`DEADLINE`] with what the page showed last.
    pub async fn wait_text(&self, selector: &str, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let end = Instant::now() + DEADLINE;
        loop {
            let text = self.text(selector).await;
            if ok(&text) {
                return text;
            }
            assert!(
                Instant::now() < end,
                "{}: {selector} should be {what}, shows {text:?}",
                self.name
            );
            tokio::time::sleep(POLL).await;
        }
    }

    /// Wait until `selector` shows exactly `expected`.
    pub async fn wait_for(&self, selector: &str, expected: &str) -> String {
        self.wait_text(selector, &format!("{expected:?}"), |t| t == expected)
            .await
    }

    /// Wait until a JavaScript expression is true.
    pub async fn wait_until(&self, js: &str) {
        let end = Instant::now() + DEADLINE;
        while !self.eval::<bool>(js).await {
            assert!(Instant::now() < end, "{}: never true: {js}", self.name);
            tokio::time::sleep(POLL).await;
        }
    }

    /// Click `selector` the way a mouse does (scrolled into view, pressed, released).
    pub async fn click(&self, selector: &str) {
        self.wait_until(&format!(
            "(() => {{ const e = document.querySelector({}); \
             return !!e && !e.disabled && !e.closest('[hidden]'); }})()",
            serde_json::to_string(selector).unwrap()
        ))
        .await;
        self.page
            .find_element(selector)
            .await
            .unwrap_or_else(|e| panic!("{}: no {selector}: {e}", self.name))
            .click()
            .await
            .unwrap_or_else(|e| panic!("{}: cannot click {selector}: {e}", self.name));
    }

    /// Click into the input `selector` and type `text` key by key.
    pub async fn type_into(&self, selector: &str, text: &str) {
        self.click(selector).await;
        self.page
            .find_element(selector)
            .await
            .unwrap()
            .type_str(text)
            .await
            .unwrap();
    }

    /// A PNG of what the tab shows.
    pub async fn screenshot(&self, path: &Path) {
        let params = ScreenshotParams::builder()
            .format(CaptureScreenshotFormat::Png)
            .build();
        self.page.save_screenshot(params, path).await.unwrap();
    }
}
