/* test_lists: the parts of the list engine (core/engine/lists_page.c) that need
 * no database: the phone mask of docs/api.md (digits only, other characters
 * dropped; 8 digits or more: the first 3, "****", the last 4; fewer: one '*'
 * per digit; the output buffer never overrun) and who sees a phone whole
 * (admins; a store manager for a row whose customer record is at their
 * store; nobody else). The rows, scope, paging, exports and audit are in
 * tests/integration/lists.test.mjs. */
#include <stdbool.h>
#include <string.h>
#include "check.h"
#include "export.h"
#include "lists.h"

static void test_mask(void)
{
    static const struct { const char *in, *want; } cases[] = {
        { "13812345678", "138****5678" },          /* a mobile number: 11 digits */
        { "+86 138-1234-5678", "861****5678" },    /* 13 digits once + - and spaces are dropped */
        { "12345678", "123****5678" },             /* exactly 8: 3 + 4 overlap nothing, 1 digit hidden */
        { "1234567", "*******" },                  /* 7: one * per digit */
        { "12-3", "***" },
        { "", "" },
        { "+- ", "" },                             /* no digit at all */
        { "020 8888 6666 ext 123", "020****6123" },/* 14 digits: the letters are dropped too */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[32];
        CHECK_STR(list_mask_phone(cases[i].in, out, sizeof out), cases[i].want, "mask '%s'", cases[i].in);
    }
    char out[32];
    CHECK_STR(list_mask_phone(NULL, out, sizeof out), "", "mask of NULL is empty");
    char small[5];
    memset(small, 'x', sizeof small);
    list_mask_phone("13812345678", small, sizeof small);
    CHECK(strlen(small) == 4, "a short buffer is cut, NUL-terminated");
    char tiny[4] = "xyz";
    list_mask_phone("123", tiny, 3);
    CHECK_STR(tiny, "**", "fewer than 8 digits into a short buffer: cut, NUL-terminated");
}

static void test_whole(void)
{
    char *s1[] = { "S1" }, *two[] = { "S1", "S2" };
    principal admin = { .role = ROLE_ADMIN, .all_stores = true };
    principal exec = { .role = ROLE_EXEC, .all_stores = true };
    principal rm = { .role = ROLE_RM, .stores = two, .nstores = 2 };
    principal sm = { .role = ROLE_SM, .stores = s1, .nstores = 1 };
    CHECK(list_phone_whole(&admin, "S2") && list_phone_whole(&admin, NULL), "an admin sees every phone whole");
    CHECK(!list_phone_whole(&exec, "S1"), "an executive sees phones masked");
    CHECK(!list_phone_whole(&rm, "S1"), "a regional manager sees phones masked, even of the region's stores");
    CHECK(list_phone_whole(&sm, "S1"), "a store manager sees their own store's customers whole");
    CHECK(!list_phone_whole(&sm, "S2"), "a store manager sees another store's customers masked");
    CHECK(!list_phone_whole(&sm, NULL), "a row without a customer store is masked for a store manager");
    CHECK(!list_phone_whole(NULL, "S1"), "no principal: masked");
}

/* The cells a spreadsheet could run as a formula, for the lists' files and
 * the dashboards' exports alike: = + - @, and TAB and CR, which Excel skips
 * before a formula; nothing else. */
static void test_formula_lead(void)
{
    for (const char *p = "=+-@\t\r"; *p; p++) CHECK(export_formula_lead(*p), "0x%02x leads a formula", *p);
    for (const char *p = "0a '\"#%\n"; *p; p++) CHECK(!export_formula_lead(*p), "0x%02x does not", *p);
    CHECK(!export_formula_lead('\0'), "an empty text does not");
}

int main(void)
{
    test_formula_lead();
    test_mask();
    test_whole();
    return check_done();
}
