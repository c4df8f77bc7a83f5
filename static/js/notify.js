// While the tab is hidden: the unread count in the title, and a desktop notification if allowed.
import { t } from './i18n.js';

const BASE_TITLE = document.title;

export class Notifier {
  /** button: "Enable notifications", shown while the browser has not been asked yet. */
  constructor(button, { onClickChat }) {
    this.button = button;
    this.onClickChat = onClickChat;
    this.supported = 'Notification' in window;
    this.floor = 0; // messages up to this id were there when the page loaded
    this.newest = new Map(); // chat id -> the newest message id notified of (or passed over)
    this.button.hidden = !this.supported || Notification.permission !== 'default';
    this.button.addEventListener('click', async () => {
      await Notification.requestPermission();
      this.button.hidden = Notification.permission !== 'default';
    });
  }

  /** Call whenever the unread total or the visibility changes. */
  title(totalUnread) {
    document.title = document.hidden && totalUnread > 0 ? `(${totalUnread}) ${BASE_TITLE}` : BASE_TITLE;
  }

  skipUpTo(id) {
    this.floor = Math.max(this.floor, id);
  }

  /** ``mentioned``: the message names the user; it gets a notification of its own that stays, even in a muted chat. */
  message(chat, message, mentioned = false) {
    // Each message once, though it may come twice (as a frame and in a catch-up); a chat's ids only grow.
    if (message.id <= Math.max(this.floor, this.newest.get(chat.id) || 0)) return;
    this.newest.set(chat.id, message.id);
    if ((chat.muted && !mentioned) || !document.hidden || !this.supported || Notification.permission !== 'granted') return;
    const group = chat.type === 'group';
    const name = message.sender_name;
    const heading = mentioned ? t(group ? 'notify.mentionIn' : 'notify.mention', { name, chat: chat.title })
      : (group ? t('notify.messageIn', { name, chat: chat.title }) : name);
    const notification = new Notification(heading, {
      body: message.text.slice(0, 200), tag: mentioned ? `mention-${message.id}` : `chat-${chat.id}`,
      icon: '/static/img/favicon.svg', requireInteraction: mentioned,
    });
    notification.addEventListener('click', () => {
      window.focus();
      this.onClickChat(chat.id);
      notification.close();
    });
  }
}
