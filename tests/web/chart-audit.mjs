// chart-audit: what the browser tests check on every chart of a page, read
// from the live ECharts instances (their models and the zrender elements
// they drew), not from the options the page meant to give. auditCharts runs
// inside the page (page.evaluate(auditCharts)) and returns one entry per
// chart: {title, problems: [...]}; a chart a reader can trust has none:
//  - a title: the chart sits in a figure or panel whose heading names it,
//    and that figure holds no other chart;
//  - its legend (when shown) overlaps no axis label, no other text the
//    chart drew (mark-line labels, pie labels) and not the plot area;
//  - no value axis repeats a tick label (0, 0, 1, 1, 1, 2 is a problem);
//  - every target line lies inside its value axis's extent;
//  - the series sharing a value axis have the axis's unit, and (unless
//    stacked) tops within SIMILAR_RANGE times each other.
export const SIMILAR_RANGE = 5;

export function auditCharts(similarRange = 5) {
  /* global echarts */
  const out = [];
  // an element's box in the chart's pixels
  const boxOf = (e) => {
    const r = e.getBoundingRect().clone();
    const m = e.getComputedTransform ? e.getComputedTransform() : e.transform;
    if (m) r.applyTransform(m);
    return r;
  };
  const overlap = (a, b) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height
    && Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x) > 0.5
    && Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y) > 0.5;
  const under = (e, group) => { for (let p = e; p; p = p.parent) if (p === group) return true; return false; };
  const textOf = (e) => e.style?.text;
  for (const box of document.querySelectorAll('.chart')) {
    const inst = echarts.getInstanceByDom(box);
    const holder = box.closest('figure, .panel');
    const heading = holder?.querySelector(':scope > h2, :scope > h3');
    const title = heading?.textContent.trim() || '';
    const problems = [];
    if (!title) problems.push('no title');
    if (holder && holder.querySelectorAll('.chart').length !== 1) problems.push(`its heading "${title}" covers ${holder.querySelectorAll('.chart').length} charts`);
    if (!inst) { out.push({ title, problems: [...problems, 'not drawn'] }); continue; }
    const option = inst.getOption();
    const views = inst._componentsViews.filter((v) => v && v.__model);
    const drawn = inst.getZr().storage.getDisplayList(true);
    // the legend against everything else
    const legendView = views.find((v) => v.__model.mainType === 'legend' && v.__model.get('show') !== false);
    if (legendView) {
      const legendEls = drawn.filter((e) => under(e, legendView.group));
      const legendBoxes = legendEls.map(boxOf).filter((r) => r.width > 0 && r.height > 0);
      const others = drawn.filter((e) => !under(e, legendView.group) && textOf(e));
      for (const e of others) {
        const r = boxOf(e);
        if (legendBoxes.some((l) => overlap(l, r))) problems.push(`the legend overlaps "${textOf(e)}"`);
      }
      for (const g of inst.getModel().getComponent('grid') ? [inst.getModel().getComponent('grid')] : []) {
        const rect = g.coordinateSystem?.getRect();
        if (rect && legendBoxes.some((l) => overlap(l, rect))) problems.push('the legend overlaps the plot area');
      }
    }
    // value axes: distinct tick labels, their unit, the series on them
    for (const dim of ['xAxis', 'yAxis']) {
      const axes = [option[dim] || []].flat();
      axes.forEach((axisOption, index) => {
        if (axisOption.type !== 'value') return;
        const view = views.find((v) => v.__model.mainType === dim && v.__model.componentIndex === index);
        const labels = view ? drawn.filter((e) => under(e, view.group) && textOf(e)).map(textOf) : [];
        const dup = labels.filter((l, i) => labels.indexOf(l) !== i);
        if (dup.length) problems.push(`${dim}[${index}] repeats tick labels: ${labels.join(', ')}`);
        if (!labels.length) problems.push(`${dim}[${index}] shows no tick label`);
        const extent = inst.getModel().getComponent(dim, index).axis.scale.getExtent();
        const on = option.series.filter((s) => (s[dim + 'Index'] || 0) === index && s.type !== 'pie');
        const tops = [];
        for (const s of on) {
          if (s.unit !== axisOption.unit) problems.push(`"${s.name}" (${s.unit}) on an axis of ${axisOption.unit}`);
          for (const m of s.markLine?.data || []) {
            if (!(m.yAxis >= extent[0] && m.yAxis <= extent[1])) problems.push(`target ${m.yAxis} of ${m.name} off its axis [${extent}]`);
          }
          if (!s.stack) {
            const top = Math.max(0, ...s.data.map((v) => (Array.isArray(v) ? v[1] : v?.value ?? v)).filter(Number.isFinite).map(Math.abs));
            if (top > 0) tops.push([s.name, top]);
          }
        }
        for (const [a, ta] of tops) for (const [b, tb] of tops) {
          if (ta / tb > similarRange) problems.push(`"${a}" (top ${ta}) and "${b}" (top ${tb}) share ${dim}[${index}]`);
        }
      });
    }
    out.push({ title, problems });
  }
  return out;
}
