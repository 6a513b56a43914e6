// The approval queue's keyboard: j / k move between cards, a approves, r rejects (both confirmed on the page).
// Keys typed into a field or a dialog are left alone.
window.rbpQueueKeys = {
  attach(ref) {
    this.detach();
    this.handler = e => {
      if (e.ctrlKey || e.metaKey || e.altKey || !['j', 'k', 'a', 'r'].includes(e.key)) return;
      if (e.target.closest && e.target.closest('input, textarea, select, [contenteditable=true], .mud-dialog, .mud-popover')) return;
      e.preventDefault();
      ref.invokeMethodAsync('OnQueueKey', e.key);
    };
    document.addEventListener('keydown', this.handler);
  },
  detach() {
    if (this.handler) document.removeEventListener('keydown', this.handler);
    this.handler = null;
  },
  show(selector) {
    const el = document.querySelector(selector);
    if (el) { el.scrollIntoView({ block: 'nearest' }); el.focus({ preventScroll: true }); }
  },
};
