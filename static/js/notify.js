// While the tab is hidden: the unread count in the title, and a desktop notification if allowed.
import { t } from './i18n.js';

const BASE_TITLE = document.title;

export class Notifier {
  /** button: "Enable notifications", shown while the browser has not been asked yet. */
  constructor(button, { onClickChat }) {
    this.button = button;
    this.onClickChat = onClickChat;
    this.supported = 'Notification' in window;
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

  /** ``mentioned``: the message names the user; it gets a notification of its own that stays, even in a muted chat. */
  message(chat, message, mentioned = false) {
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
