// The end-to-end tests, the compose test, the browser test and the overhead
// benchmark: a module of their own, so that what only they use (chromedp,
// for the browser) never enters the demo's go.mod.
module example.com/tracingdemo/e2e

go 1.26.0

require (
	example.com/tracingdemo v0.0.0
	github.com/chromedp/cdproto v0.159.0
	github.com/chromedp/chromedp v0.23.0
)

require github.com/go-json-experiment/json v0.0.0-20260213210345-44df1a37e875 // indirect

replace example.com/tracingdemo => ../
