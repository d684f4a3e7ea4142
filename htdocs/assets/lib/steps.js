// Pages in steps (<section class="step">, siblings): one shows at a time.

/* shows step, hides its siblings, moves focus to focus or the step's heading */
export function showStep(step, focus) {
  for (const s of step.parentElement.querySelectorAll(':scope > .step')) s.hidden = s !== step;
  const target = focus || step.querySelector('h1, h2');
  if (target) {
    if (!target.matches('input, button, a, select, textarea')) target.setAttribute('tabindex', '-1');
    target.focus();
  }
  window.scrollTo(0, 0);
}
