// Browser tests of the Vangnet web pages, against a running `vangnet demo`.
//
// Drives Debian's Chromium through playwright-core, checks every page with axe-core (no
// serious or critical violations allowed), and saves screenshots of each page at desktop and
// phone (360 px) width into docs/screenshots/. Started by tests/api/browser.rs, which passes:
//   VANGNET_URL      the server's base URL
//   VANGNET_MULE     an IBAN that partners reported (the demo prints it)
//   VANGNET_TOKEN    a demo bank's API token
//   VANGNET_HELPDESK_TOKEN  the demo fraud helpdesk's API token (reviews citizen reports)
//   VANGNET_POLICE_TOKEN    the demo police's API token (exports what is held about a value)
//   VANGNET_CASE     the path of a victim's PNBF case page (`/zaak/…`) whose NAW was released
//   SCREENSHOTS      the directory for screenshots
//   CHROMIUM         the browser executable (default /usr/bin/chromium)
import { readFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const base = process.env.VANGNET_URL;
const mule = process.env.VANGNET_MULE;
const token = process.env.VANGNET_TOKEN;
const helpdeskToken = process.env.VANGNET_HELPDESK_TOKEN;
const policeToken = process.env.VANGNET_POLICE_TOKEN;
const caseLink = process.env.VANGNET_CASE;
const shots = process.env.SCREENSHOTS;
if (!base || !mule || !token || !shots) {
  console.error('VANGNET_URL, VANGNET_MULE, VANGNET_TOKEN and SCREENSHOTS are required');
  process.exit(2);
}
mkdirSync(shots, { recursive: true });

const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 360, height: 740 };
const failures = [];
const checked = [];

function expect(condition, message) {
  if (!condition) throw new Error(message);
}

// Checks the page with axe-core and saves it at both widths.
async function inspect(page, name) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () =>
    // eslint-disable-next-line no-undef
    await axe.run(document, { resultTypes: ['violations'] }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  for (const v of bad) {
    failures.push(`${name}: axe ${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
  }
  const overflow = [];
  for (const [label, size] of [['desktop', DESKTOP], ['phone', PHONE]]) {
    await page.setViewportSize(size);
    const wide = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
    if (wide) overflow.push(label);
    await page.screenshot({ path: `${shots}/${name}-${label}.png`, fullPage: true });
  }
  await page.setViewportSize(DESKTOP);
  if (overflow.length) failures.push(`${name}: the page scrolls sideways at ${overflow.join(', ')} width`);
  checked.push({ name, violations: result.violations.map((v) => `${v.impact}:${v.id}`) });
}

async function step(name, fn) {
  try {
    await fn();
    console.log(`ok   ${name}`);
  } catch (e) {
    failures.push(`${name}: ${e.message}`);
    console.log(`FAIL ${name}: ${e.message}`);
  }
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-dev-shm-usage'],
});
const context = await browser.newContext({ viewport: DESKTOP, locale: 'nl-NL' });
const page = await context.newPage();
const consoleErrors = [];
// A form answered with 422 (errors shown next to the fields) is logged by Chromium as a failed
// load; that one is by design. Anything else (a 404 for a file, a CSP violation) is an error.
page.on('console', (m) => {
  if (m.type() === 'error' && !m.text().includes('status of 422')) consoleErrors.push(m.text());
});
page.on('pageerror', (e) => consoleErrors.push(e.message));

await step('home page', async () => {
  const response = await page.goto(`${base}/`);
  expect(response.status() === 200, `status ${response.status()}`);
  expect(await page.getAttribute('html', 'lang') === 'nl', 'lang is nl');
  await inspect(page, 'home');
});

await step('keyboard: skip link first, focus visible', async () => {
  await page.goto(`${base}/`);
  await page.keyboard.press('Tab');
  const focused = await page.evaluate(() => document.activeElement.className);
  expect(focused === 'skip', `the first Tab reaches the skip link, not "${focused}"`);
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  expect(outline !== 'none', 'focus is visible');
});

await step('a citizen checks a reported IBAN and sees the warning', async () => {
  await page.goto(`${base}/controleren`);
  const spaced = mule.replace(/(.{4})/g, '$1 ').trim().toLowerCase();
  await page.fill('#waarde', spaced);
  await page.click('form button[type=submit]');
  const result = page.locator('section.result');
  await result.waitFor();
  expect(await result.getAttribute('class') === 'result reported', `class is "${await result.getAttribute('class')}"`);
  expect((await page.textContent('#result-title')).includes('Pas op'), 'the warning is shown');
  expect((await result.textContent()).includes(mule), 'the canonical IBAN is shown');
  await inspect(page, 'check-reported');
});

await step('a person objects to the listing of their own IBAN, in plain Dutch, and gets a reference', async () => {
  await page.goto(`${base}/controleren?waarde=${encodeURIComponent(mule)}`);
  await page.click('#objection-link');
  await page.locator('#reden').waitFor();
  expect(await page.inputValue('#waarde') === mule, 'the value comes along from the check');
  expect((await page.textContent('main')).includes('Uw bezwaar alleen verandert nog niets'), 'it says what happens next');
  await inspect(page, 'objection-form');
  await page.fill('#contact', 'geen adres');
  await page.click('form[action="/bezwaar"] button[type=submit]');
  await page.locator('#reden-error').waitFor();
  expect(await page.getAttribute('#reden', 'aria-invalid') === 'true', 'the missing reason is marked');
  await inspect(page, 'objection-form-error');
  await page.fill('#reden', 'Dit is mijn eigen rekening. Ik heb de spelcomputer echt verstuurd.');
  await page.fill('#contact', '');
  await page.click('form[action="/bezwaar"] button[type=submit]');
  const reference = page.locator('#reference');
  await reference.waitFor();
  expect(/^BZ-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}$/.test((await reference.textContent()).trim()), 'a reference is shown');
  await inspect(page, 'objection-received');
  await page.goto(`${base}/bezwaar?lang=en`);
  expect((await page.textContent('h1')).includes('Object to a listing'), 'also in English');
  await inspect(page, 'objection-form-en');
  await page.goto(`${base}/?lang=nl`);
});

await step('the privacy page says when a value is listed, who sees what and how to object', async () => {
  await page.goto(`${base}/privacy`);
  expect((await page.textContent('#listing')).length > 0, 'the listing criteria are there');
  await inspect(page, 'privacy');
  await page.goto(`${base}/privacy?lang=en`);
  await inspect(page, 'privacy-en');
  await page.goto(`${base}/?lang=nl`);
});

await step('a value without reports says that is not the same as safe', async () => {
  await page.goto(`${base}/controleren?waarde=${encodeURIComponent('NL91 ABNA 0417 1643 00')}`);
  const text = await page.textContent('section.result');
  expect(text.includes('niet dat het veilig is'), 'honest about "not reported"');
  await inspect(page, 'check-not-reported');
});

await step('the report form shows an invalid IBAN next to its field, then accepts the fix', async () => {
  await page.goto(`${base}/melden`);
  await inspect(page, 'report-form');
  await page.selectOption('#fraud_type', 'marketplace');
  await page.fill('#occurred', '2026-11-01');
  await page.fill('#amount', '249,95');
  const wrong = 'NL20 INGB 0001 2345 68';
  await page.fill('#identifier-1', wrong);
  await page.fill('#identifier-2', '06-23456789');
  await page.check('#aangifte-ja');
  await page.selectOption('#age_band', '75+');
  await page.click('button[value=send]');
  const error = page.locator('#identifier-1-error');
  await error.waitFor();
  expect((await error.textContent()).includes('geen geldig rekeningnummer'), 'the IBAN error is in Dutch');
  expect(await page.getAttribute('#identifier-1', 'aria-invalid') === 'true', 'the field is marked invalid');
  expect((await page.getAttribute('#identifier-1', 'aria-describedby')).includes('identifier-1-error'), 'the error is announced with the field');
  expect(await page.inputValue('#identifier-1') === wrong, 'what was typed is kept');
  await inspect(page, 'report-form-error');
  await page.fill('#identifier-1', 'NL20 INGB 0001 2345 67');
  await page.click('button[value=send]');
  const reference = page.locator('#reference');
  await reference.waitFor();
  expect(/^VN-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}$/.test((await reference.textContent()).trim()), 'a reference is shown');
  await inspect(page, 'report-received');
});

await step('the questionnaire for a bank-helpdesk call starts with "hang up and call your bank"', async () => {
  await page.goto(`${base}/hulp`);
  await inspect(page, 'help');
  await page.click('a[href="/hulp/vraag/1"]');
  expect((await page.textContent('h1')).includes('bank'), 'the first question is about a call from the bank');
  await inspect(page, 'help-question');
  await page.click('button[value=ja]');
  await page.waitForURL(`${base}/hulp/bankhelpdesk`);
  const first = (await page.locator('.steps > li').first().textContent()).toLowerCase();
  expect(first.includes('hang op') && first.includes('bel zelf uw bank'), `first step: ${first}`);
  await inspect(page, 'help-steps');
  await page.click('a[href="/hulp/bankhelpdesk/afdrukken"]');
  await inspect(page, 'help-print');
});

await step('the same in English', async () => {
  await page.goto(`${base}/hulp/bankhelpdesk?lang=en`);
  expect(await page.getAttribute('html', 'lang') === 'en', 'lang is en');
  const first = (await page.locator('.steps > li').first().textContent()).toLowerCase();
  expect(first.includes('hang up and call your bank'), `first step: ${first}`);
  await inspect(page, 'help-steps-en');
  await page.goto(`${base}/?lang=nl`);
});

await step('a victim follows the recovery of her money through the secret link', async () => {
  await page.goto(`${base}${caseLink}`);
  expect((await page.textContent('#state-next')).includes('deurwaarder'), 'the next step names the bailiff');
  expect((await page.textContent('#naw')).includes('Demodorp'), 'the released name and address are shown');
  await inspect(page, 'case-victim');
  await page.goto(`${base}${caseLink}?lang=en`);
  expect((await page.textContent('#state-next')).includes('bailiff'), 'also in English');
  await inspect(page, 'case-victim-en');
  await page.goto(`${base}/?lang=nl`);
});

await step('a partner signs in, finds an indicator, signs out', async () => {
  await page.goto(`${base}/partner`);
  await inspect(page, 'partner-sign-in');
  await page.fill('#token', token);
  await page.click('form[action="/partner/inloggen"] button');
  await page.locator('#partner-name').waitFor();
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === 'vangnet_session');
  expect(session && session.httpOnly && session.secure && session.sameSite === 'Strict', 'the session cookie is HttpOnly, Secure, SameSite=Strict');
  await page.fill('#waarde', mule);
  await page.click('form[action="/partner/zoeken"] button');
  await page.locator('#record-title').waitFor();
  expect((await page.textContent('#record-title')).includes(mule), 'the record is shown');
  expect((await page.textContent('#record-status')).startsWith('reported'), 'it is reported');
  await inspect(page, 'partner-record');
  await page.goto(`${base}/partner/logboek`);
  expect((await page.textContent('main')).includes('indicator.read'), 'the look-up is in the audit log');
  await inspect(page, 'partner-audit');
  await page.goto(`${base}/partner/zaken`);
  expect((await page.textContent('#outbox')) !== null, 'the outbox is shown');
  await inspect(page, 'partner-cases');
  await page.click('section[aria-labelledby="outbox"] tbody tr:first-child a');
  await page.locator('#case-state').waitFor();
  await inspect(page, 'partner-case');
  await page.goto(`${base}/partner/zaken/cijfers`);
  await inspect(page, 'partner-figures');
  await page.click('form[action="/partner/uitloggen"] button');
  await page.locator('#token').waitFor();
  expect(!(await context.cookies()).some((c) => c.name === 'vangnet_session'), 'the session cookie is gone');
});

await step('the helpdesk reviews citizen reports in its triage queue', async () => {
  await page.goto(`${base}/partner`);
  await page.fill('#token', helpdeskToken);
  await page.click('form[action="/partner/inloggen"] button');
  await page.locator('#partner-name').waitFor();
  await page.click('a[href="/partner/burgermeldingen"]');
  await page.locator('section.triage').first().waitFor();
  await inspect(page, 'partner-triage');
  const before = await page.locator('section.triage').count();
  await page.locator('section.triage').first().locator('button[value="verified"]').click();
  await page.locator('p[role="status"]').waitFor();
  expect((await page.textContent('p[role="status"]')).includes('bevestigd'), 'the decision is confirmed in Dutch');
  expect((await page.locator('section.triage').count()) === before - 1, 'the verified report left the queue');
  await page.goto(`${base}/partner/bezwaren/verzoeken`);
  await page.locator('section.triage').first().waitFor();
  expect((await page.textContent('main')).includes('spelcomputer echt verstuurd'), 'the objection sent above waits here');
  await inspect(page, 'partner-objections');
  await page.goto(`${base}/partner/bezwaren?staat=alle`);
  await inspect(page, 'partner-disputes');
  await page.locator('table tbody tr a').first().click();
  await page.locator('#dispute-state').waitFor();
  await inspect(page, 'partner-dispute');
  await page.click('form[action="/partner/uitloggen"] button');
  await page.locator('#token').waitFor();
});

await step('the police open the subject-access page of a reported account', async () => {
  await page.goto(`${base}/partner`);
  await page.fill('#token', policeToken);
  await page.click('form[action="/partner/inloggen"] button');
  await page.locator('#partner-name').waitFor();
  await page.fill('#waarde', mule);
  await page.click('form[action="/partner/zoeken"] button');
  await page.locator('#network-link').waitFor();
  await page.click('#network-link');
  await page.locator('svg.network-graph').waitFor();
  expect((await page.locator('#network-nodes tbody tr').count()) > 1, 'the mule account has a network');
  await inspect(page, 'partner-network');
  await page.goto(`${base}/partner`);
  await page.fill('#waarde', mule);
  await page.click('form[action="/partner/zoeken"] button');
  await page.locator('#subject-export').waitFor();
  await page.click('#subject-export');
  await page.locator('#subject-value').waitFor();
  expect((await page.textContent('#subject-value')).includes(mule), 'the export names the account');
  expect((await page.locator('#reports tbody tr').count()) > 0, 'it lists the reports');
  expect((await page.textContent('#accesses')).includes('overzicht bekeken'), 'the record read above is listed, in words');
  await inspect(page, 'partner-subject-export');
  await page.goto(`${base}/partner/geldezels`);
  await page.locator('svg.mule-graph').first().waitFor();
  expect((await page.locator('article.mule-alert').count()) > 0, 'the demo networks are flagged');
  expect((await page.textContent('main')).includes('geld direct doorgesluisd'), 'the pattern in words');
  await inspect(page, 'partner-mules');
  const collector = await page.locator('article.mule-alert td.value a').first().textContent();
  await page.goto(`${base}/partner/geldezels?iban=${encodeURIComponent(collector)}`);
  await page.locator('#mule-score').waitFor();
  await inspect(page, 'partner-mule-account');
  await page.goto(`${base}/partner`);
  await page.click('form[action="/partner/uitloggen"] button');
  await page.locator('#token').waitFor();
});

await step('no errors in the browser console (a CSP violation would show here)', async () => {
  expect(consoleErrors.length === 0, consoleErrors.join(' | '));
});

await browser.close();
console.log(JSON.stringify({ pages: checked.length, checked }, null, 0));
if (failures.length) {
  console.error(`\n${failures.length} failure(s):\n- ${failures.join('\n- ')}`);
  process.exit(1);
}
