/* test_alerts: the parts of the alerts that need no database: where a
 * notification may go (FOURSCORE_WEBHOOK_HOSTS, FOURSCORE_MAIL_DOMAINS and
 * the URL's host as libcurl parses it), and the messages of an alert: the
 * JSON body, the WeCom and DingTalk markdown and the email, each naming the
 * store, the KPI, the value, the threshold and the window in Chinese. The
 * expected texts are written here by hand from the alert below. */
#include <stdlib.h>
#include <string.h>
#include <cJSON.h>
#include "check.h"
#include "alerts.h"
#include "notify.h"

static const char ALERT[] =
    "{\"id\":7,\"rule\":\"renewal-low\",\"kpi\":\"insurance.renewal_rate\",\"store\":\"S1\",\"store_name\":\"广州天河丰田\","
    "\"value\":0.725,\"threshold\":0.8,\"window\":\"last_month\",\"from\":\"2026-11-01\",\"to\":\"2026-11-30\","
    "\"opened_at\":\"2026-12-02 07:30:00\",\"closed_at\":null}";

static bool has(const char *text, const char *part) { return text && strstr(text, part) != NULL; }

int main(void)
{
    char host[256], err[600];
    /* --- hosts and domains --- */
    CHECK(notify_url_host("https://QYAPI.weixin.qq.com/cgi-bin/webhook/send?key=x", host, sizeof host) == 0 &&
          strcmp(host, "qyapi.weixin.qq.com") == 0, "the host of a URL, lower case");
    CHECK(notify_url_host("http://[::1]:8080/hook", host, sizeof host) == 0 && strcmp(host, "::1") == 0, "an IPv6 host");
    CHECK(notify_url_host("ftp://example.com/x", host, sizeof host) != 0, "only http and https");
    CHECK(notify_url_host("not a url", host, sizeof host) != 0, "not a URL");
    CHECK(notify_list_has("a.example, B.example ,c", "b.example"), "a list member, any case, spaces ignored");
    CHECK(!notify_list_has("a.example,b.example", "example"), "not a part of a member");
    CHECK(!notify_list_has("", "a"), "an empty list has nothing");

    unsetenv("FOURSCORE_WEBHOOK_HOSTS");
    CHECK(alerts_webhook_allowed("https://oapi.dingtalk.com/robot/send?access_token=x", err, sizeof err) == 0,
          "the DingTalk robot host by default");
    CHECK(alerts_webhook_allowed("https://qyapi.weixin.qq.com/cgi-bin/webhook/send", err, sizeof err) == 0,
          "the WeCom robot host by default");
    CHECK(alerts_webhook_allowed("https://evil.example/x", err, sizeof err) != 0 && has(err, "evil.example"),
          "any other host is refused, named: %s", err);
    /* a look-alike: the host is what libcurl parses, not a prefix of the text */
    CHECK(alerts_webhook_allowed("https://oapi.dingtalk.com@evil.example/x", err, sizeof err) != 0,
          "user info before the host does not pass");
    setenv("FOURSCORE_WEBHOOK_HOSTS", "127.0.0.1", 1);
    CHECK(alerts_webhook_allowed("http://127.0.0.1:9/x", err, sizeof err) == 0, "FOURSCORE_WEBHOOK_HOSTS replaces the default");
    CHECK(alerts_webhook_allowed("https://oapi.dingtalk.com/robot/send", err, sizeof err) != 0, "and the default is gone");

    unsetenv("FOURSCORE_MAIL_DOMAINS");
    CHECK(alerts_email_allowed("boss@anywhere.cn", true, err, sizeof err) == 0, "no domains set: admins mail anywhere");
    CHECK(alerts_email_allowed("boss@anywhere.cn", false, err, sizeof err) != 0, "and others nowhere");
    setenv("FOURSCORE_MAIL_DOMAINS", "group.cn", 1);
    CHECK(alerts_email_allowed("li@GROUP.cn", false, err, sizeof err) == 0, "a listed domain, any case");
    CHECK(alerts_email_allowed("li@group.cn.evil", true, err, sizeof err) != 0, "a domain that only starts like one");
    CHECK(alerts_email_allowed("no-at-sign", true, err, sizeof err) != 0, "not an address");
    CHECK(alerts_email_allowed("a b@group.cn", true, err, sizeof err) != 0, "no spaces");

    /* --- the messages --- */
    cJSON *al = cJSON_Parse(ALERT);
    char *json = alert_webhook_body(al, "json", "续保率", "ratio");
    cJSON *j = cJSON_Parse(json);
    CHECK(j && cJSON_GetNumberValue(cJSON_GetObjectItem(j, "value")) == 0.725, "json: the alert as it is");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(j, "event")), "open", "json: event open");
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(j, "closed_at")), "json: closed_at null");

    char *wecom = alert_webhook_body(al, "wecom", "续保率", "ratio");
    cJSON *w = cJSON_Parse(wecom);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(w, "msgtype")), "markdown", "wecom: a markdown message");
    const char *content = cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(w, "markdown"), "content"));
    printf("    wecom content:\n%s\n", content ? content : "(none)");
    CHECK(has(content, "**经营预警：广州天河丰田**"), "wecom: the heading names the store");
    CHECK(has(content, "门店：广州天河丰田（S1）"), "wecom: the store");
    CHECK(has(content, "指标：续保率（insurance.renewal_rate）"), "wecom: the KPI");
    CHECK(has(content, "72.5%"), "wecom: the value as a percentage");
    CHECK(has(content, "阈值：80.0%（当前值低于阈值）"), "wecom: the threshold and the side");
    CHECK(has(content, "统计区间：上月（2026-11-01 至 2026-11-30）"), "wecom: the window");

    char *ding = alert_webhook_body(al, "dingtalk", "续保率", "ratio");
    cJSON *d = cJSON_Parse(ding);
    const cJSON *md = cJSON_GetObjectItem(d, "markdown");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(md, "title")), "经营预警：广州天河丰田 续保率", "dingtalk: the title");
    const char *text = cJSON_GetStringValue(cJSON_GetObjectItem(md, "text"));
    CHECK(has(text, "#### 经营预警：广州天河丰田") && has(text, "当前值：72.5%") && has(text, "上月"),
          "dingtalk: the text: %s", text ? text : "");
    CHECK(!has(text, "<font"), "dingtalk: no WeCom colour tags");

    char *subject = NULL, *body = NULL;
    CHECK(alert_email_text(al, "续保率", "ratio", &subject, &body) == 0, "the email");
    CHECK_STR(subject, "【经营预警】广州天河丰田 续保率：72.5%", "email: the subject");
    CHECK(has(body, "指标：续保率（insurance.renewal_rate）") && has(body, "阈值：80.0%") && has(body, "统计区间：上月"),
          "email: the body names KPI, threshold and window");

    /* closing */
    cJSON_ReplaceItemInObject(al, "closed_at", cJSON_CreateString("2026-12-03 07:30:00"));
    char *closing = alert_webhook_body(al, "wecom", "续保率", "ratio");
    CHECK(has(closing, "预警解除") && has(closing, "解除时间：2026-12-03 07:30:00"), "wecom: the closing message");
    char *jclose = alert_webhook_body(al, "json", "续保率", "ratio");
    CHECK(has(jclose, "\"event\":\"close\""), "json: event close");

    /* data_missing */
    cJSON *dm = cJSON_Parse("{\"id\":8,\"rule\":\"ro-missing\",\"kpi\":null,\"store\":\"S2\",\"store_name\":\"深圳福田丰田\","
                            "\"value\":5,\"threshold\":2,\"window\":null,\"from\":null,\"to\":null,"
                            "\"opened_at\":\"2026-12-02 07:30:00\",\"closed_at\":null}");
    char *dmw = alert_webhook_body(dm, "wecom", "repair_orders", NULL);
    CHECK(has(dmw, "维修工单数据未更新") && has(dmw, "已 5 天未更新") && has(dmw, "超过 2 天"), "data_missing: %s", dmw ? dmw : "");

    cJSON_Delete(dm);
    free(dmw);
    free(closing);
    free(jclose);
    free(subject);
    free(body);
    cJSON_Delete(d);
    free(ding);
    cJSON_Delete(w);
    free(wecom);
    cJSON_Delete(j);
    free(json);
    cJSON_Delete(al);
    return check_done();
}
