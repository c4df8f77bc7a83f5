// While the tab is hidden: the unread count in the title, and a desktop notification if allowed.
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

  message(chat, message) {
    if (!document.hidden || !this.supported || Notification.permission !== 'granted') return;
    const heading = chat.type === 'group' ? `${message.sender_name} in ${chat.title}` : message.sender_name;
    const notification = new Notification(heading, {
      body: message.text.slice(0, 200), tag: `chat-${chat.id}`, icon: '/static/img/favicon.svg',
    });
    notification.addEventListener('click', () => {
      window.focus();
      this.onClickChat(chat.id);
      notification.close();
    });
  }
}
